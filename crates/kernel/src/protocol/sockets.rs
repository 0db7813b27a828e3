//! The five kernel sockets on libzmq, and reading requests that are signed, new and well
//! formed.
//!
//! libzmq is the ZeroMQ that ipykernel stands on. Every socket refuses frames longer than the
//! message limit (`ZMQ_MAXMSGSIZE`: the peer that announces one is disconnected before its
//! bytes are stored), and [`super::transport`] refuses multipart messages that add up to more.
//! A message that is too large, short, unsigned, wrongly signed, replayed or not valid JSON is
//! logged and dropped, and the loop reading the socket goes on; a signed request whose content
//! does not fit its type is answered with an error (see [`super::bad_request`]).

use super::framing::{FramingError, UnreadablePart};
use super::session::Session;
use super::signing::SignatureError;
use super::transport::{self, ReceiveError};
use anyhow::Context;
use jupyter_protocol::{ConnectionInfo, JupyterMessage};
use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;

/// Overrides the largest message the kernel accepts, in bytes.
pub(crate) const MAX_MESSAGE_ENV: &str = "FLOW_EDGE_MAX_MESSAGE_BYTES";
/// The largest message by default: far above any notebook's, far below what hurts a machine.
const DEFAULT_MAX_MESSAGE_BYTES: usize = 256 << 20;

/// The largest frame, and the largest multipart message, a peer may send.
pub(crate) fn max_message_bytes() -> usize {
    let Ok(text) = std::env::var(MAX_MESSAGE_ENV) else {
        return DEFAULT_MAX_MESSAGE_BYTES;
    };
    match text.trim().parse::<usize>() {
        Ok(bytes) if bytes > 0 && i64::try_from(bytes).is_ok() => bytes,
        _ => {
            eprintln!(
                "flow-edge-kernel: {MAX_MESSAGE_ENV}={text:?} is not a positive number of bytes; \
                 using {DEFAULT_MAX_MESSAGE_BYTES}"
            );
            DEFAULT_MAX_MESSAGE_BYTES
        }
    }
}

/// The sockets named by a connection file, bound.
pub(crate) struct KernelSockets {
    pub(crate) shell: KernelSocket,
    pub(crate) control: KernelSocket,
    pub(crate) iopub: KernelSocket,
    /// Bound so clients can connect; input requests are not supported yet.
    pub(crate) _stdin: KernelSocket,
    /// Handed to [`super::heartbeat`], which echoes on it.
    pub(crate) heartbeat: zmq::Socket,
}

/// Binds every socket of `info`; messages are sealed and opened by `session`.
pub(crate) fn bind(info: &ConnectionInfo, session: &Arc<Session>) -> anyhow::Result<KernelSockets> {
    let context = zmq::Context::new();
    let limit = max_message_bytes();
    let binder = Binder {
        context: &context,
        ipv6: info.ip.parse::<IpAddr>().is_ok_and(|ip| ip.is_ipv6()),
        limit,
    };
    let kernel_socket = |name: &'static str, kind, url: String| -> anyhow::Result<KernelSocket> {
        let socket = binder.bind(kind, &url)?;
        Ok(KernelSocket {
            name,
            socket: transport::Socket::spawn(name, socket, limit)
                .with_context(|| format!("starting the {name} socket's thread"))?,
            session: Arc::clone(session),
        })
    };
    Ok(KernelSockets {
        shell: kernel_socket("shell", zmq::ROUTER, info.shell_url())?,
        control: kernel_socket("control", zmq::ROUTER, info.control_url())?,
        iopub: kernel_socket("iopub", zmq::PUB, info.iopub_url())?,
        _stdin: kernel_socket("stdin", zmq::ROUTER, info.stdin_url())?,
        heartbeat: binder.bind(zmq::REP, &info.hb_url())?,
    })
}

/// Creates and binds sockets with the kernel's options.
struct Binder<'a> {
    context: &'a zmq::Context,
    ipv6: bool,
    limit: usize,
}

impl Binder<'_> {
    fn bind(&self, kind: zmq::SocketType, url: &str) -> anyhow::Result<zmq::Socket> {
        let socket = self.context.socket(kind)?;
        let limit = i64::try_from(self.limit).unwrap_or(i64::MAX);
        socket.set_maxmsgsize(limit)?;
        // Unsent messages must not keep a shutting-down kernel alive.
        socket.set_linger(1000)?;
        socket.set_ipv6(self.ipv6)?;
        if kind == zmq::ROUTER {
            // A client that reconnects with the same identity takes its place (as ipykernel).
            socket.set_router_handover(true)?;
        }
        socket.bind(url).with_context(|| format!("binding {url}"))?;
        Ok(socket)
    }
}

/// One of the kernel's message sockets: its libzmq socket and the session.
pub(crate) struct KernelSocket {
    name: &'static str,
    socket: transport::Socket,
    session: Arc<Session>,
}

/// Why a message could not be sent.
#[derive(Debug)]
pub(crate) enum SendError {
    Encode(serde_json::Error),
    Closed(transport::Closed),
}

impl fmt::Display for SendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SendError::Encode(error) => write!(f, "cannot encode the message: {error}"),
            SendError::Closed(closed) => closed.fmt(f),
        }
    }
}

impl KernelSocket {
    /// The socket's name for logs: shell, control, iopub or stdin.
    pub(crate) fn name(&self) -> &'static str {
        self.name
    }

    /// Reads the next message, verified and parsed.
    pub(crate) async fn read_request(&self) -> Result<JupyterMessage, Rejected> {
        let frames = self.socket.receive().await.map_err(Rejected::Receive)?;
        self.session.open(&frames)
    }

    /// Signs `message` and queues it.
    pub(crate) fn send(&self, message: JupyterMessage) -> Result<(), SendError> {
        let frames = self.session.seal(message).map_err(SendError::Encode)?;
        self.socket.send(frames).map_err(SendError::Closed)
    }
}

/// Why an incoming message was not accepted.
#[derive(Debug)]
pub(crate) enum Rejected {
    /// Too large, or the socket failed.
    Receive(ReceiveError),
    /// Not the frames of a Jupyter message.
    Framing(FramingError),
    /// Signature missing or wrong.
    Signature(SignatureError),
    /// Correctly signed, but that signature was seen before.
    Replayed,
    /// Signed, but the header, parent header or metadata is not JSON.
    Unreadable(UnreadablePart),
    /// Signed, but the content does not fit the message type: answered with an error.
    ContentRefused {
        message: Box<JupyterMessage>,
        problem: String,
    },
}

impl Rejected {
    /// True when the socket can deliver nothing more.
    pub(crate) fn is_fatal(&self) -> bool {
        matches!(self, Rejected::Receive(ReceiveError::Closed))
    }
}

impl fmt::Display for Rejected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rejected::Receive(error) => error.fmt(f),
            Rejected::Framing(error) => write!(f, "malformed message: {error}"),
            Rejected::Signature(error) => write!(f, "message failed verification: {error}"),
            Rejected::Replayed => write!(
                f,
                "replayed message: its signature was already used by an earlier message"
            ),
            Rejected::Unreadable(error) => write!(f, "malformed message: {error}"),
            Rejected::ContentRefused { problem, .. } => write!(f, "malformed request: {problem}"),
        }
    }
}
