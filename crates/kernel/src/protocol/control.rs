//! The control loop: interrupt and shutdown, answered even while a cell runs.

use super::iopub::Publisher;
use super::sockets::{KernelSocket, Rejected};
use super::{bad_request, kernel_info, Stop};
use crate::interpreter::Interpreter;
use jupyter_protocol::{
    ExecutionState, InterruptReply, JupyterMessage, JupyterMessageContent, ShutdownReply,
};
use std::sync::Arc;

/// Serves the control socket until a shutdown request arrives.
pub(crate) async fn run<I: Interpreter>(
    control: KernelSocket,
    publisher: Publisher,
    interpreter: Arc<I>,
) -> Stop {
    loop {
        let request = match control.read_request().await {
            Ok(request) => request,
            Err(Rejected::ContentRefused { message, problem }) => {
                // Control has no execute; the count is never shown.
                bad_request::answer(&control, &publisher, &message, &problem, 0);
                continue;
            }
            Err(rejected) if rejected.is_fatal() => return Stop::SocketLost("control"),
            Err(rejected) => {
                eprintln!("flow-edge-kernel: control: dropped {rejected}");
                continue;
            }
        };
        publisher.status(Some(&request), ExecutionState::Busy);
        let (reply, stop): (Option<JupyterMessageContent>, Option<Stop>) = match &request.content {
            JupyterMessageContent::InterruptRequest(_) => {
                interpreter.interrupt();
                (Some(InterruptReply::new().into()), None)
            }
            JupyterMessageContent::ShutdownRequest(shutdown) => {
                let reply = ShutdownReply {
                    restart: shutdown.restart,
                    ..ShutdownReply::default()
                };
                (Some(reply.into()), Some(Stop::Shutdown))
            }
            JupyterMessageContent::KernelInfoRequest(_) => {
                (Some(kernel_info::reply(interpreter.info()).into()), None)
            }
            other => {
                eprintln!(
                    "flow-edge-kernel: control: no handler for {}",
                    other.message_type()
                );
                (None, None)
            }
        };
        if let Some(reply) = reply {
            if let Err(error) = control.send(JupyterMessage::new(reply, Some(&request))) {
                eprintln!("flow-edge-kernel: control reply failed: {error}");
            }
        }
        publisher.status(Some(&request), ExecutionState::Idle);
        if let Some(stop) = stop {
            return stop;
        }
    }
}
