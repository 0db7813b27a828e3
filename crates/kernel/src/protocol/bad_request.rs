//! Answering a signed request whose content does not fit its type (an `execute_request` whose
//! `code` is a number): the client gets a `<type>_reply` with `status: "error"` between the
//! usual `busy` and `idle`, instead of silence that would leave it waiting forever.

use super::iopub::Publisher;
use super::sockets::KernelSocket;
use jupyter_protocol::{ExecutionState, JupyterMessage, UnknownMessage};
use serde_json::{json, Value};

/// The `ename` of these replies.
const ENAME: &str = "InvalidRequest";

/// Answers `request` with an error reply naming `problem`; a message that is not a request
/// (a comm message, a reply) gets no answer, only the log line.
pub(crate) fn answer(
    socket: &KernelSocket,
    publisher: &Publisher,
    request: &JupyterMessage,
    problem: &str,
    execution_count: usize,
) {
    let name = socket.name();
    let Some(content) = reply_content(&request.header.msg_type, problem, execution_count) else {
        eprintln!("flow-edge-kernel: {name}: dropped a malformed message: {problem}");
        return;
    };
    eprintln!("flow-edge-kernel: {name}: answered a malformed request with an error: {problem}");
    publisher.status(Some(request), ExecutionState::Busy);
    let reply = JupyterMessage::new(content, Some(request));
    if let Err(error) = socket.send(reply) {
        eprintln!("flow-edge-kernel: {name} reply failed: {error}");
    }
    publisher.status(Some(request), ExecutionState::Idle);
}

/// The error reply to a request of type `msg_type`, or `None` if it is not a request.
fn reply_content(msg_type: &str, problem: &str, execution_count: usize) -> Option<UnknownMessage> {
    let kind = msg_type.strip_suffix("_request")?;
    let mut content = json!({
        "status": "error",
        "ename": ENAME,
        "evalue": problem,
        "traceback": [format!("{ENAME}: {problem}")],
    });
    if kind == "execute" {
        // An execute_reply always carries the count; nothing ran, so it did not move.
        content["execution_count"] = Value::from(execution_count);
    }
    Some(UnknownMessage {
        msg_type: format!("{kind}_reply"),
        content,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_gets_an_error_reply_of_its_type_and_other_messages_none() {
        let reply = reply_content("execute_request", "code: expected a string", 3).unwrap();
        assert_eq!(reply.msg_type, "execute_reply");
        assert_eq!(reply.content["status"], "error");
        assert_eq!(reply.content["ename"], ENAME);
        assert_eq!(reply.content["evalue"], "code: expected a string");
        assert_eq!(reply.content["execution_count"], 3);
        let reply = reply_content("complete_request", "no code", 3).unwrap();
        assert_eq!(reply.msg_type, "complete_reply");
        assert!(reply.content.get("execution_count").is_none());
        assert!(reply_content("comm_msg", "no data", 3).is_none());
    }
}
