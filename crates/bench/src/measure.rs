//! Running a child process and measuring its wall time, processor time and peak memory.
//!
//! The peak resident set size comes from `wait4`, which returns the child's
//! own resource usage (unlike `getrusage(RUSAGE_CHILDREN)`, which keeps the
//! maximum over every child ever waited for).

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// What one run of a child cost.
#[derive(Debug, Clone, Copy)]
pub struct Measurement {
    /// Wall-clock time from spawn to exit.
    pub wall: Duration,
    /// Processor time of the child, user and system, all its threads: moves less than the
    /// wall time when other work loads the machine.
    pub cpu: Duration,
    /// Peak resident memory of the child, in bytes.
    pub peak_rss: u64,
}

/// Runs `command` to completion (stdout discarded, stderr shown) and
/// measures it. A failing child is an error naming the command.
pub fn run(command: &mut Command) -> Result<Measurement, String> {
    let described = format!("{command:?}");
    let describe = || described.clone();
    let started = Instant::now();
    let child = command
        .stdout(Stdio::null())
        .spawn()
        .map_err(|e| format!("{}: cannot start: {e}", describe()))?;
    let pid =
        libc::pid_t::try_from(child.id()).map_err(|_| "process id out of range".to_owned())?;
    let mut status: libc::c_int = 0;
    // SAFETY: `rusage` is a plain C struct for which all-zero bytes are valid.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `pid` is our own child, not yet waited for (std's `Child` only
    // waits when asked); `status` and `usage` are valid for writes.
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let wall = started.elapsed();
    if waited != pid {
        return Err(format!(
            "{}: wait4 failed: {}",
            describe(),
            std::io::Error::last_os_error()
        ));
    }
    if !libc::WIFEXITED(status) || libc::WEXITSTATUS(status) != 0 {
        return Err(format!("{}: failed with status {status}", describe()));
    }
    let peak_kib = u64::try_from(usage.ru_maxrss).unwrap_or(0);
    Ok(Measurement {
        wall,
        cpu: duration(usage.ru_utime) + duration(usage.ru_stime),
        peak_rss: peak_kib * 1024,
    })
}

fn duration(time: libc::timeval) -> Duration {
    let seconds = u64::try_from(time.tv_sec).unwrap_or(0);
    let micros = u32::try_from(time.tv_usec).unwrap_or(0);
    Duration::from_secs(seconds) + Duration::from_micros(u64::from(micros))
}

/// The run with the median wall time of `runs` measurements.
pub fn median(mut runs: Vec<Measurement>) -> Option<Measurement> {
    runs.sort_by_key(|run| run.wall);
    runs.get(runs.len() / 2).copied()
}
