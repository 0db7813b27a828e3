//! The standby process (`flow-edge-kernel standby`): warm evcxr ahead, wait for a notebook,
//! then serve it as its kernel.

use super::fingerprint;
use super::handoff::{self, Confirm, Reply, Request};
use super::rendezvous::Rendezvous;
use crate::bridge::SocketDir;
use crate::build_cache::{self, EVCXR_TMPDIR};
use crate::interpreter::rust::{self as rust_interpreter, RustInterpreter};
use crate::interpreter::{Interpreter, StreamSink};
use crate::protocol;
use anyhow::{bail, Context};
use flow_edge_bridge_protocol::wire::BRIDGE_ENV;
use jupyter_protocol::ConnectionInfo;
use std::io::Read;
use std::os::fd::AsRawFd;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

/// What the standby runs before it says it is ready: the shipped notebooks' dependency; a
/// first `let` of a library type, which makes rust-analyzer analyse std and the library (the
/// variable is dropped again, so the notebook finds no stray name); and a `?`. evcxr compiles
/// a cell as a plain function until one fails for a `?`, then wraps that cell and every later
/// one in a closure returning `Result`: done here, the notebook's first cell (which uses `?`)
/// is compiled once instead of twice (0.8 s at 1M rows).
const WARM_UP_CELLS: [&str; 3] = [
    ":dep flow_edge",
    "let flow_edge_standby_warm_up: Option<flow_edge::Day> = None;",
    "drop(flow_edge_standby_warm_up);\nstd::env::current_dir()?;",
];

/// Runs a standby until it has served a notebook, or its idle time ran out.
pub fn run() -> anyhow::Result<()> {
    let environment: Vec<_> = std::env::vars_os().collect();
    let Some((settings, rendezvous)) = super::rendezvous_for(&environment)? else {
        return Ok(());
    };
    let Some(lock) = rendezvous
        .try_lock()
        .with_context(|| format!("locking {}", rendezvous.lock_path().display()))?
    else {
        eprintln!("flow-edge-kernel standby: another one lives for this configuration");
        return Ok(());
    };
    eprintln!(
        "flow-edge-kernel standby {}: warming up in {} s",
        std::process::id(),
        settings.delay.as_secs()
    );
    std::thread::sleep(settings.delay);
    if std::env::var_os(EVCXR_TMPDIR).is_some_and(|dir| !dir.is_empty()) {
        bail!("{EVCXR_TMPDIR} is set: a standby builds only in a build cache slot of its own");
    }
    rust_interpreter::expose_std_library_to_cells();
    let Some(slot) = build_cache::take_slot_for_kernel() else {
        bail!("no build cache slot of its own: not warming a kernel ahead");
    };
    let socket_dir = SocketDir::create()?;
    let bridge_socket = socket_dir.socket_path();
    // Set before evcxr starts its subprocess, which inherits it; no other thread runs yet.
    std::env::set_var(BRIDGE_ENV, &bridge_socket);
    let workspace = rust_interpreter::workspace_root();
    let sources = fingerprint::library_sources(&workspace);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let late_sink = LateSink::default();
    let interpreter = RustInterpreter::start(late_sink.sink(), workspace.clone())?;
    let started = Instant::now();
    for cell in WARM_UP_CELLS {
        if let Err(report) = runtime.block_on(interpreter.execute(cell)) {
            runtime.block_on(interpreter.shutdown(Duration::from_secs(5)));
            bail!("warming `{cell}` failed: {}", report.evalue);
        }
    }
    eprintln!(
        "flow-edge-kernel standby: warm after {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let expected = Expected {
        configuration: rendezvous.fingerprint(),
        workspace: &workspace,
        sources,
    };
    let mut lock = Some(lock);
    let adoption = wait_for_notebook(&rendezvous, &expected, settings.idle, &mut lock);
    // From here on a new standby may start: this one is no longer waiting.
    let _ = std::fs::remove_file(rendezvous.socket_path());
    drop(lock);
    let Some(adoption) = adoption? else {
        runtime.block_on(interpreter.shutdown(Duration::from_secs(5)));
        return Ok(());
    };
    let cwd = PathBuf::from(&adoption.cwd);
    std::env::set_current_dir(&cwd).with_context(|| format!("changing into {}", cwd.display()))?;
    // evcxr's subprocess runs the cells; it must be in the notebook's folder too. Jobs run
    // in order, so this runs before any cell of the notebook.
    interpreter.run_before_cells(&format!(
        "std::env::set_current_dir({:?}).ok();",
        adoption.cwd
    ));
    watch_lifeline(adoption.lifeline);
    let served = runtime.block_on(protocol::serve(adoption.info, &bridge_socket, |sink| {
        late_sink.attach(sink);
        Ok(interpreter)
    }));
    runtime.shutdown_timeout(Duration::from_millis(200));
    drop(socket_dir);
    drop(slot);
    served
}

/// What an adopting kernel must match.
struct Expected<'a> {
    configuration: &'a str,
    workspace: &'a Path,
    sources: u64,
}

/// A notebook handed over.
struct Adoption {
    info: ConnectionInfo,
    cwd: String,
    lifeline: UnixStream,
}

/// Listens until a kernel hands over a notebook (`Some`), the idle time runs out (`None`),
/// or the library's sources changed (an error: this standby is stale). Peers that are not
/// this user, or that send nothing usable in time, are dropped and the wait goes on.
fn wait_for_notebook(
    rendezvous: &Rendezvous,
    expected: &Expected<'_>,
    idle: Duration,
    lock: &mut Option<std::fs::File>,
) -> anyhow::Result<Option<Adoption>> {
    let path = rendezvous.socket_path();
    // We hold the lock: a socket file there was left by a standby that crashed.
    let _ = std::fs::remove_file(&path);
    let listener =
        UnixListener::bind(&path).with_context(|| format!("listening on {}", path.display()))?;
    eprintln!("flow-edge-kernel standby: ready on {}", path.display());
    let deadline = Instant::now() + idle;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() || !readable_within(&listener, left) {
            eprintln!("flow-edge-kernel standby: no notebook came: exiting");
            return Ok(None);
        }
        let Ok((mut stream, _)) = listener.accept() else {
            // Out of file descriptors, say: do not spin on a listener that stays readable.
            std::thread::sleep(Duration::from_millis(100));
            continue;
        };
        match consider(&mut stream, expected) {
            Ok(Ok((info, cwd))) => {
                // Make way for the next standby before the kernel, told it is served, looks
                // for one to start.
                let _ = std::fs::remove_file(&path);
                drop(lock.take());
                // This kernel's log moves aside (its open file follows) before the kernel reads
                // the answer, names the moved log and starts the next standby, whose log takes
                // the usual name.
                let _ = std::fs::rename(rendezvous.log_path(), rendezvous.previous_log_path());
                let confirmed = handoff::send(&mut stream, &Reply::Adopted)
                    .and_then(|()| handoff::receive::<Confirm>(&mut stream))
                    .and_then(|confirm| match confirm.stand_in {
                        true => Ok(()),
                        false => Err(std::io::Error::other("the kernel withdrew")),
                    });
                if let Err(error) = confirmed {
                    eprintln!(
                        "flow-edge-kernel standby: the kernel left before the handoff: {error}"
                    );
                    return Ok(None);
                }
                eprintln!("flow-edge-kernel standby: serving a notebook in {cwd}");
                return Ok(Some(Adoption {
                    info,
                    cwd,
                    lifeline: stream,
                }));
            }
            Ok(Err(Refusal { reason, stale })) => {
                eprintln!("flow-edge-kernel standby: refused a kernel: {reason}");
                if stale {
                    // Make way for a fresh standby before the refused kernel looks for one.
                    let _ = std::fs::remove_file(&path);
                    drop(lock.take());
                    let _ = handoff::send(&mut stream, &Reply::Refused(reason.clone()));
                    bail!("{reason}");
                }
                let _ = handoff::send(&mut stream, &Reply::Refused(reason));
            }
            Err(error) => eprintln!("flow-edge-kernel standby: dropped a peer: {error}"),
        }
    }
}

/// Why a well-formed request is turned down; `stale` when this standby can serve none.
struct Refusal {
    reason: String,
    stale: bool,
}

/// Reads and checks one request. The outer error: the peer is not this user or did not send
/// a request in time (nothing is answered).
fn consider(
    stream: &mut UnixStream,
    expected: &Expected<'_>,
) -> std::io::Result<Result<(ConnectionInfo, String), Refusal>> {
    handoff::same_user_peer(stream)?;
    let request: Request = handoff::receive(stream)?;
    let refuse = |reason: String| {
        Ok(Err(Refusal {
            reason,
            stale: false,
        }))
    };
    if request.configuration != expected.configuration {
        return refuse("another configuration".into());
    }
    if fingerprint::library_sources(expected.workspace) != expected.sources {
        return Ok(Err(Refusal {
            reason: format!(
                "the library's sources in {} changed since this kernel warmed up",
                expected.workspace.display()
            ),
            stale: true,
        }));
    }
    let info: ConnectionInfo = match serde_json::from_str(&request.connection) {
        Ok(info) => info,
        Err(error) => return refuse(format!("not a Jupyter connection file: {error}")),
    };
    let cwd = Path::new(&request.cwd);
    if !cwd.is_absolute() || !cwd.is_dir() {
        return refuse(format!("{:?} is not a folder", request.cwd));
    }
    Ok(Ok((info, request.cwd)))
}

/// Waits until `listener` has a connection to accept, at most `wait`.
fn readable_within(listener: &UnixListener, wait: Duration) -> bool {
    let mut poll = libc::pollfd {
        fd: listener.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    let millis = libc::c_int::try_from(wait.as_millis()).unwrap_or(libc::c_int::MAX);
    // SAFETY: one valid pollfd, for the duration of the call.
    let ready = unsafe { libc::poll(&mut poll, 1, millis.max(1)) };
    if ready < 0 {
        // EINTR: report readable; accept then fails or succeeds and the loop goes on.
        return true;
    }
    ready > 0
}

/// When the adopting kernel process ends (Jupyter killed it, or it crashed), the lifeline
/// closes: this kernel then shuts down as on SIGTERM.
fn watch_lifeline(mut lifeline: UnixStream) {
    let _ = lifeline.set_read_timeout(None);
    std::thread::spawn(move || {
        let mut sink = [0u8; 256];
        while matches!(lifeline.read(&mut sink), Ok(read) if read > 0) {}
        eprintln!(
            "flow-edge-kernel standby: the kernel process Jupyter started is gone: shutting down"
        );
        // SAFETY: signalling this very process; its SIGTERM handler shuts the kernel down.
        unsafe {
            libc::kill(libc::getpid(), libc::SIGTERM);
        }
    });
}

/// The text cells print before the notebook arrives (the warm-up) goes nowhere; after, to
/// the notebook's iopub.
#[derive(Clone, Default)]
struct LateSink(Arc<OnceLock<StreamSink>>);

impl LateSink {
    fn sink(&self) -> StreamSink {
        let target = Arc::clone(&self.0);
        Arc::new(move |kind, text| {
            if let Some(sink) = target.get() {
                sink(kind, text);
            }
        })
    }

    fn attach(&self, sink: StreamSink) {
        let _ = self.0.set(sink);
    }
}
