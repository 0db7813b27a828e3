//! The five kernel sockets, and reading requests that are signed and well formed.
//!
//! Signing and framing are jupyter-zmq-client's; this module adds the guard around them: a
//! message that is short, unsigned, wrongly signed or not valid JSON is logged and dropped,
//! and the loop reading the socket goes on.

use super::content_defaults;
use jupyter_protocol::{ConnectionInfo, Header, JupyterMessage, JupyterMessageContent};
use jupyter_zmq_client::{
    Connection, KernelControlConnection, KernelHeartbeatConnection, KernelIoPubConnection,
    KernelShellConnection, KernelStdinConnection, RawMessage,
};
use serde_json::Value;
use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use zeromq::SocketRecv;

/// The sockets named by a connection file, bound.
pub(crate) struct KernelSockets {
    pub(crate) shell: KernelShellConnection,
    pub(crate) control: KernelControlConnection,
    pub(crate) iopub: KernelIoPubConnection,
    pub(crate) heartbeat: KernelHeartbeatConnection,
    /// Bound so clients can connect; input requests are not supported yet.
    pub(crate) _stdin: KernelStdinConnection,
}

/// Binds every socket of `info`; `session_id` goes in the header of every message we send.
pub(crate) async fn bind(info: &ConnectionInfo, session_id: &str) -> anyhow::Result<KernelSockets> {
    use anyhow::Context;
    Ok(KernelSockets {
        shell: jupyter_zmq_client::create_kernel_shell_connection(info, session_id)
            .await
            .with_context(|| format!("binding the shell socket {}", info.shell_url()))?,
        control: jupyter_zmq_client::create_kernel_control_connection(info, session_id)
            .await
            .with_context(|| format!("binding the control socket {}", info.control_url()))?,
        iopub: jupyter_zmq_client::create_kernel_iopub_connection(info, session_id)
            .await
            .with_context(|| format!("binding the iopub socket {}", info.iopub_url()))?,
        heartbeat: jupyter_zmq_client::create_kernel_heartbeat_connection(info)
            .await
            .with_context(|| format!("binding the heartbeat socket {}", info.hb_url()))?,
        _stdin: jupyter_zmq_client::create_kernel_stdin_connection(info, session_id)
            .await
            .with_context(|| format!("binding the stdin socket {}", info.stdin_url()))?,
    })
}

/// Why an incoming message was not accepted.
#[derive(Debug)]
pub(crate) enum Rejected {
    /// The socket itself failed.
    Socket(String),
    /// Fewer frames than a Jupyter message has.
    TooShort { frames: usize },
    /// Signature missing or wrong, or framing refused by the library.
    Verification(String),
    /// Signed, but a part is not the JSON it should be.
    Malformed(String),
}

impl fmt::Display for Rejected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rejected::Socket(reason) => write!(f, "socket error: {reason}"),
            Rejected::TooShort { frames } => write!(
                f,
                "message with {frames} frames is too short (delimiter, signature and four parts needed)"
            ),
            Rejected::Verification(reason) => write!(f, "message failed verification: {reason}"),
            Rejected::Malformed(reason) => write!(f, "malformed message: {reason}"),
        }
    }
}

/// Delimiter between routing identities and the message.
const DELIMITER: &[u8] = b"<IDS|MSG>";

/// Reads the next message, verified and parsed.
pub(crate) async fn read_request<S: SocketRecv>(
    connection: &mut Connection<S>,
) -> Result<JupyterMessage, Rejected> {
    let frames = connection
        .socket
        .recv()
        .await
        .map_err(|error| Rejected::Socket(error.to_string()))?;
    let frame_count = frames.len();
    let delimiter = frames
        .iter()
        .position(|frame| frame.as_ref() == DELIMITER)
        .ok_or_else(|| Rejected::Verification(String::from("no <IDS|MSG> delimiter")))?;
    // Signature plus header, parent header, metadata and content must follow the delimiter.
    if frame_count < delimiter + 6 {
        return Err(Rejected::TooShort {
            frames: frame_count,
        });
    }
    let mac = &connection.mac;
    let raw = catch_unwind(AssertUnwindSafe(|| RawMessage::from_multipart(frames, mac)))
        .map_err(|_| Rejected::Verification(String::from("the framing library panicked")))?
        .map_err(|error| Rejected::Verification(error.to_string()))?;
    parse(raw)
}

/// Builds the typed message from verified parts.
fn parse(raw: RawMessage) -> Result<JupyterMessage, Rejected> {
    let part = |index: usize, name: &str| -> Result<Value, Rejected> {
        serde_json::from_slice(&raw.jparts[index])
            .map_err(|error| Rejected::Malformed(format!("{name} is not JSON: {error}")))
    };
    let header: Header = serde_json::from_value(part(0, "header")?)
        .map_err(|error| Rejected::Malformed(format!("header: {error}")))?;
    let parent_header = serde_json::from_value(part(1, "parent header")?).ok();
    let metadata = part(2, "metadata")?;
    let content = JupyterMessageContent::from_type_and_content(
        &header.msg_type,
        content_defaults::with_defaults(&header.msg_type, part(3, "content")?),
    )
    .map_err(|error| Rejected::Malformed(format!("{} content: {error}", header.msg_type)))?;
    Ok(JupyterMessage {
        zmq_identities: raw.zmq_identities,
        header,
        parent_header,
        metadata,
        content,
        buffers: raw.jparts[4..].to_vec(),
        channel: None,
    })
}
