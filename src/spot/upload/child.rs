//! Running scp with a wall-clock deadline.
//!
//! scp starts ssh, and ssh can wait forever on a node that accepted the connection and then
//! fell silent or trickles bytes (ssh's own keepalives do not fire while a packet is still
//! arriving). So the program is started as the leader of a process group of its own, and when
//! the deadline passes the whole group is killed: scp and the ssh it started, not scp alone.
//! Its error output is read on a thread, keeping only the first [`STDERR_LIMIT`] bytes, so a
//! chatty or hostile peer can neither fill the pipe (which would stall the program) nor memory.

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::process::{Child, ChildStderr, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

/// The most of the program's error output kept: scp and ssh say what went wrong in a few lines.
const STDERR_LIMIT: usize = 16 * 1024;

/// How long to wait, once the program ended, for the end of its error output: a process that
/// left the group may hold the pipe open, and must not hold the caller.
const STDERR_GRACE: Duration = Duration::from_secs(1);

/// The longest pause between two looks at whether the program ended.
const POLL_CEILING: Duration = Duration::from_millis(25);

/// How a program run with a deadline ended.
#[derive(Debug)]
pub(super) enum Ended {
    /// It exited (or was killed by someone else) before the deadline.
    Exited { status: ExitStatus, stderr: String },
    /// The deadline passed: it was killed with its process group.
    Killed { stderr: String },
}

/// Runs `command` (stdin and stdout closed, stderr captured) until it exits or `until` passes.
/// The error is the operating system's when the program cannot be started.
pub(super) fn run_until(mut command: Command, until: Instant) -> std::io::Result<Ended> {
    command
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .process_group(0);
    let mut child = command.spawn()?;
    let stderr = Capture::start(child.stderr.take());
    let mut pause = Duration::from_millis(1);
    loop {
        match child.try_wait() {
            Ok(Some(status)) => {
                return Ok(Ended::Exited {
                    status,
                    stderr: stderr.finish(),
                })
            }
            Ok(None) => {}
            Err(error) => {
                kill_group(&mut child);
                return Err(error);
            }
        }
        let now = Instant::now();
        if now >= until {
            kill_group(&mut child);
            return Ok(Ended::Killed {
                stderr: stderr.finish(),
            });
        }
        thread::sleep(pause.min(until - now));
        pause = (pause * 2).min(POLL_CEILING);
    }
}

/// Kills the child's process group and reaps the child.
fn kill_group(child: &mut Child) {
    // The child leads its own group (`process_group(0)`), so the group's id is its pid. It is
    // not reaped yet, so that id cannot have been reused.
    if let Ok(pid) = libc::pid_t::try_from(child.id()) {
        // SAFETY: kill(2) takes plain integers and touches no memory of ours.
        unsafe {
            libc::kill(-pid, libc::SIGKILL);
        }
    }
    // In case the group could not be signalled, the child itself at least.
    let _ = child.kill();
    let _ = child.wait();
}

/// The first [`STDERR_LIMIT`] bytes of a pipe, read on a thread of their own.
struct Capture {
    kept: Arc<Mutex<Vec<u8>>>,
    closed: Receiver<()>,
}

impl Capture {
    fn start(pipe: Option<ChildStderr>) -> Capture {
        let kept = Arc::new(Mutex::new(Vec::new()));
        let (tell_closed, closed) = mpsc::channel();
        if let Some(pipe) = pipe {
            let buffer = Arc::clone(&kept);
            // Without the thread the pipe is dropped: the program then only loses its messages.
            let _ = thread::Builder::new()
                .name("flow-edge scp stderr".into())
                .spawn(move || {
                    read_bounded(pipe, &buffer);
                    let _ = tell_closed.send(());
                });
        }
        Capture { kept, closed }
    }

    /// What was read, once the pipe closed or after [`STDERR_GRACE`].
    fn finish(self) -> String {
        let _ = self.closed.recv_timeout(STDERR_GRACE);
        let kept = self.kept.lock().unwrap_or_else(PoisonError::into_inner);
        String::from_utf8_lossy(&kept).into_owned()
    }
}

/// Reads `pipe` to its end, keeping its first [`STDERR_LIMIT`] bytes in `kept`.
fn read_bounded(mut pipe: ChildStderr, kept: &Mutex<Vec<u8>>) {
    let mut chunk = [0u8; 4096];
    loop {
        match pipe.read(&mut chunk) {
            Ok(0) => return,
            Ok(read) => {
                let mut kept = kept.lock().unwrap_or_else(PoisonError::into_inner);
                let room = STDERR_LIMIT.saturating_sub(kept.len());
                kept.extend_from_slice(&chunk[..read.min(room)]);
            }
            Err(error) if error.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_program_past_its_deadline_is_killed_with_the_children_it_started() {
        let dir = tempfile::tempdir().unwrap();
        let marker = dir.path().join("grandchild-survived");
        // The shell starts a grandchild that would leave a mark after the deadline.
        let script = format!("(sleep 2; touch '{}') & sleep 30", marker.display());
        let mut command = Command::new("sh");
        command.arg("-c").arg(script);
        let started = Instant::now();
        let ended = run_until(command, started + Duration::from_millis(300)).unwrap();
        assert!(matches!(ended, Ended::Killed { .. }), "{ended:?}");
        assert!(started.elapsed() < Duration::from_secs(2));
        thread::sleep(Duration::from_millis(2500));
        assert!(!marker.exists(), "the grandchild outlived the deadline");
    }

    #[test]
    fn endless_error_output_is_cut_and_does_not_stall_the_program() {
        let mut command = Command::new("sh");
        command
            .arg("-c")
            .arg("head -c 1000000 /dev/zero | tr '\\0' x >&2; echo done >&2; exit 3");
        let ended = run_until(command, Instant::now() + Duration::from_secs(20)).unwrap();
        match ended {
            Ended::Exited { status, stderr } => {
                assert_eq!(status.code(), Some(3));
                assert_eq!(stderr.len(), STDERR_LIMIT);
            }
            other => panic!("{other:?}"),
        }
    }
}
