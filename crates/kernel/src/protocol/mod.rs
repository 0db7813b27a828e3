//! The protocol side of the kernel: sockets, signing, routing, busy/idle (xeus' "server").
//!
//! It owns the Jupyter sockets and turns requests into calls on the comm bridge and on an
//! [`Interpreter`], whichever language that is: it knows nothing of how code runs.

mod bad_request;
mod comms;
mod content_defaults;
mod control;
mod execute;
mod framing;
mod heartbeat;
mod history;
pub(crate) mod iopub;
mod kernel_info;
mod replay;
mod session;
mod shell;
mod signals;
mod signing;
mod sockets;
mod transport;

use crate::bridge::{Bridge, CommRegistry};
use crate::interpreter::{Interpreter, StreamKind, StreamSink};
use iopub::{CurrentRequest, Publisher};
use jupyter_protocol::{ConnectionInfo, ExecutionState, StreamContent};
use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::path::Path;
use std::sync::Arc;

/// Why serving ended.
pub(crate) enum Stop {
    /// A client asked for shutdown (restart or not: a restart starts a new process).
    Shutdown,
    /// The named socket's thread stopped: the kernel cannot hear its clients any more.
    SocketLost(&'static str),
}

/// What request handlers need.
pub(crate) struct Services<I> {
    pub(crate) publisher: Publisher,
    pub(crate) current: CurrentRequest,
    pub(crate) interpreter: Arc<I>,
    pub(crate) bridge: Bridge,
    pub(crate) comms: CommRegistry,
    pub(crate) execution_count: usize,
    pub(crate) history: history::History,
}

/// Serves a kernel on the sockets of `info` until shutdown, with the interpreter `start`
/// makes (it gets the sink for the text cells print, which goes to iopub).
pub async fn serve<I: Interpreter>(
    info: ConnectionInfo,
    bridge_socket: &Path,
    start: impl FnOnce(StreamSink) -> std::io::Result<I>,
) -> anyhow::Result<()> {
    let session = Arc::new(session::Session::new(new_session_id(), &info.key));
    let sockets = sockets::bind(&info, &session)?;
    heartbeat::start(sockets.heartbeat)?;
    let publisher = Publisher::start(sockets.iopub);
    publisher.status(None, ExecutionState::Starting);
    let current = CurrentRequest::default();
    let comms = CommRegistry::default();
    let bridge = Bridge::listen(
        bridge_socket,
        publisher.clone(),
        current.clone(),
        comms.clone(),
    )?;
    let interpreter = Arc::new(start(stream_sink(publisher.clone(), current.clone()))?);
    tokio::spawn(signals::interrupt_on_sigint(Arc::clone(&interpreter)));
    let services = Services {
        publisher: publisher.clone(),
        current,
        interpreter: Arc::clone(&interpreter),
        bridge,
        comms,
        execution_count: 0,
        history: history::History::default(),
    };
    let stop = tokio::select! {
        stop = shell::run(sockets.shell, services) => stop,
        stop = control::run(sockets.control, publisher, Arc::clone(&interpreter)) => stop,
        stop = signals::terminated() => stop,
    };
    interpreter
        .shutdown(std::time::Duration::from_secs(5))
        .await;
    match stop {
        Stop::Shutdown => {
            // Let the reply and the last status leave the sockets before the process ends.
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            Ok(())
        }
        Stop::SocketLost(name) => Err(anyhow::anyhow!("the {name} socket stopped working")),
    }
}

/// Streamed cell output goes to iopub, parented to the request being handled.
fn stream_sink(publisher: Publisher, current: CurrentRequest) -> StreamSink {
    Arc::new(move |kind, text| {
        let content = match kind {
            StreamKind::Stdout => StreamContent::stdout(&text),
            StreamKind::Stderr => StreamContent::stderr(&text),
        };
        publisher.send(current.get().as_ref(), content);
    })
}

/// A random session id for the headers of the kernel's messages.
fn new_session_id() -> String {
    let halves: Vec<u64> = (0..2u64)
        .map(|half| {
            let mut hasher = RandomState::new().build_hasher();
            hasher.write_u64(half);
            hasher.write_u32(std::process::id());
            hasher.finish()
        })
        .collect();
    format!("{:016x}{:016x}", halves[0], halves[1])
}
