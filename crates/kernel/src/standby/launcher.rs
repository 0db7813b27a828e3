//! The starting kernel's side: hand the notebook to a ready standby, stand in for it as
//! Jupyter's kernel process, and spawn the standby for the next notebook.

use super::handoff::{self, Confirm, Reply, Request};
use super::rendezvous::{Rendezvous, StandbyState};
use std::ffi::OsString;
use std::io::Read;
use std::os::unix::net::UnixStream;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::Duration;

/// How long the served kernel has to end after a forwarded SIGTERM before it is killed.
const SHUTDOWN_PATIENCE: Duration = Duration::from_secs(10);

/// A standby that serves this kernel's notebook.
pub struct Adopted {
    lifeline: UnixStream,
    pid: u32,
}

/// Hands the connection file to the ready standby of `rendezvous`, if there is one and it
/// accepts; `None` (the reason logged) means: serve the notebook yourself.
pub fn try_adopt(rendezvous: &Rendezvous, connection: &str) -> Option<Adopted> {
    if !matches!(rendezvous.state(), StandbyState::Ready(_)) {
        return None;
    }
    let declined = |reason: String| -> Option<Adopted> {
        eprintln!("flow-edge-kernel: not using the kernel started ahead: {reason}");
        None
    };
    let cwd = match std::env::current_dir() {
        Ok(cwd) => match cwd.to_str() {
            Some(cwd) => cwd.to_owned(),
            None => return declined("the working folder's name is not UTF-8".into()),
        },
        Err(error) => return declined(format!("no working folder: {error}")),
    };
    let attempt = || -> std::io::Result<(UnixStream, u32, Reply)> {
        let mut stream = UnixStream::connect(rendezvous.socket_path())?;
        let pid = handoff::same_user_peer(&stream)?;
        let request = Request {
            configuration: rendezvous.fingerprint().to_owned(),
            connection: connection.to_owned(),
            cwd,
        };
        handoff::send(&mut stream, &request)?;
        let reply = handoff::receive(&mut stream)?;
        if reply == Reply::Adopted {
            handoff::send(&mut stream, &Confirm { stand_in: true })?;
        }
        Ok((stream, pid, reply))
    };
    match attempt() {
        Ok((lifeline, pid, Reply::Adopted)) => {
            eprintln!(
                "flow-edge-kernel: the kernel started ahead (pid {pid}) serves this notebook; \
                 its log: {}",
                rendezvous.previous_log_path().display()
            );
            Some(Adopted { lifeline, pid })
        }
        Ok((_, _, Reply::Refused(reason))) => declined(reason),
        Err(error) => declined(error.to_string()),
    }
}

impl Adopted {
    /// Stands in for the served kernel until it ends: forwards SIGINT and SIGTERM to it and
    /// returns when it closes the lifeline. If it has not ended [`SHUTDOWN_PATIENCE`] after a
    /// SIGTERM, it is killed.
    pub fn stand_in(self) -> anyhow::Result<()> {
        use tokio::signal::unix::{signal, SignalKind};
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let pid = self.pid;
        let mut lifeline = self.lifeline;
        lifeline.set_read_timeout(None)?;
        runtime.block_on(async move {
            let mut interrupts = signal(SignalKind::interrupt())?;
            let mut terminations = signal(SignalKind::terminate())?;
            let mut ended = tokio::task::spawn_blocking(move || {
                let mut sink = [0u8; 256];
                while matches!(lifeline.read(&mut sink), Ok(read) if read > 0) {}
            });
            let mut deadline: Option<tokio::time::Instant> = None;
            loop {
                let kill_at = async {
                    match deadline {
                        Some(at) => tokio::time::sleep_until(at).await,
                        None => std::future::pending().await,
                    }
                };
                tokio::select! {
                    _ = &mut ended => return Ok(()),
                    _ = interrupts.recv() => forward(pid, libc::SIGINT),
                    _ = terminations.recv() => {
                        forward(pid, libc::SIGTERM);
                        deadline.get_or_insert(tokio::time::Instant::now() + SHUTDOWN_PATIENCE);
                    }
                    () = kill_at => {
                        eprintln!("flow-edge-kernel: the served kernel (pid {pid}) did not end: killing it");
                        forward(pid, libc::SIGKILL);
                        return Ok(());
                    }
                }
            }
        })
    }
}

/// Sends `signal` to the served kernel. Its pid came from the kernel's end of the lifeline,
/// which is still open, so the process is the one that adopted the notebook.
fn forward(pid: u32, signal: libc::c_int) {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return;
    };
    // SAFETY: kill has no memory preconditions; a vanished process gives ESRCH.
    if unsafe { libc::kill(pid, signal) } != 0 {
        eprintln!(
            "flow-edge-kernel: cannot signal the served kernel (pid {pid}): {}",
            std::io::Error::last_os_error()
        );
    }
}

/// Starts `flow-edge-kernel standby` for the next notebook if none lives: detached from this
/// kernel's process group (Jupyter kills that group when it stops this kernel), with the
/// environment this kernel was started with, its stderr in the rendezvous log.
pub fn spawn_standby(rendezvous: &Rendezvous, environment: &[(OsString, OsString)]) {
    if rendezvous.state() != StandbyState::None {
        return;
    }
    let spawned = std::env::current_exe().and_then(|exe| {
        let log = std::fs::File::create(rendezvous.log_path())?;
        Command::new(exe)
            .arg("standby")
            .env_clear()
            .envs(environment.iter().cloned())
            .current_dir(rendezvous.dir())
            .process_group(0)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
    });
    match spawned {
        // Reaped when it ends, so it never lingers as a zombie of this kernel.
        Ok(mut child) => drop(std::thread::spawn(move || child.wait())),
        Err(error) => eprintln!("flow-edge-kernel: cannot start a kernel ahead: {error}"),
    }
}
