//! The shell loop: one request at a time, each framed by `busy` and `idle` on iopub.

use super::sockets::{KernelSocket, Rejected};
use super::{bad_request, comms, execute, kernel_info, Services, Stop};
use crate::interpreter::{Completeness, Interpreter};
use jupyter_protocol::{
    CompleteReply, ExecuteReply, ExecutionCount, ExecutionState, HistoryReply, InspectReply,
    IsCompleteReply, JupyterMessage, JupyterMessageContent, ReplyStatus, ShutdownReply,
};
use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// After a failed cell, how long the queue must stay empty before aborting ends: the cells
/// a "run all" sent behind the failed one are already queued.
const ABORT_WINDOW: Duration = Duration::from_millis(10);

/// Microseconds since the Unix epoch, the unit compared with request dates.
fn now_micros() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| {
            i64::try_from(elapsed.as_micros()).unwrap_or(i64::MAX)
        })
}

/// Serves the shell socket until a shutdown request arrives.
pub(crate) async fn run<I: Interpreter>(shell: KernelSocket, mut services: Services<I>) -> Stop {
    // When a cell failed: the time of its failure. Cells sent before then were queued
    // behind it (a "run all") and are aborted, as ipykernel does; cells sent after it run.
    let mut aborting: Option<i64> = None;
    loop {
        let next = if aborting.is_some() {
            match tokio::time::timeout(ABORT_WINDOW, shell.read_request()).await {
                Ok(next) => next,
                Err(_) => {
                    aborting = None;
                    continue;
                }
            }
        } else {
            shell.read_request().await
        };
        let request = match next {
            Ok(request) => request,
            Err(Rejected::ContentRefused { message, problem }) => {
                let count = services.execution_count;
                bad_request::answer(&shell, &services.publisher, &message, &problem, count);
                continue;
            }
            Err(rejected) if rejected.is_fatal() => return Stop::SocketLost("shell"),
            Err(rejected) => {
                eprintln!("flow-edge-kernel: shell: dropped {rejected}");
                continue;
            }
        };
        services.current.set(&request);
        services
            .publisher
            .status(Some(&request), ExecutionState::Busy);
        let queued_behind_failure = aborting.is_some_and(|failed_at| {
            is_execute(&request) && request.header.date.timestamp_micros() <= failed_at
        });
        let (reply, stop) = if queued_behind_failure {
            (Some(aborted(&services)), None)
        } else {
            handle(&mut services, &request).await
        };
        if stops_on_error(&request, reply.as_ref()) {
            aborting = Some(now_micros());
        }
        if let Some(reply) = reply {
            let reply = JupyterMessage::new(reply, Some(&request));
            if let Err(error) = shell.send(reply) {
                eprintln!("flow-edge-kernel: shell reply failed: {error}");
            }
        }
        services
            .publisher
            .status(Some(&request), ExecutionState::Idle);
        if let Some(stop) = stop {
            return stop;
        }
    }
}

fn is_execute(request: &JupyterMessage) -> bool {
    matches!(request.content, JupyterMessageContent::ExecuteRequest(_))
}

/// True when a cell failed and asked that the cells queued behind it not run (ipykernel's
/// `stop_on_error`).
fn stops_on_error(request: &JupyterMessage, reply: Option<&JupyterMessageContent>) -> bool {
    let JupyterMessageContent::ExecuteRequest(cell) = &request.content else {
        return false;
    };
    matches!(reply, Some(JupyterMessageContent::ExecuteReply(result))
        if cell.stop_on_error && result.status == ReplyStatus::Error)
}

fn aborted<I>(services: &Services<I>) -> JupyterMessageContent {
    ExecuteReply {
        status: ReplyStatus::Aborted,
        execution_count: ExecutionCount::new(services.execution_count),
        user_expressions: Some(HashMap::new()),
        ..ExecuteReply::default()
    }
    .into()
}

/// Answers one request; comm messages have no reply.
async fn handle<I: Interpreter>(
    services: &mut Services<I>,
    request: &JupyterMessage,
) -> (Option<JupyterMessageContent>, Option<Stop>) {
    let reply: JupyterMessageContent = match &request.content {
        JupyterMessageContent::KernelInfoRequest(_) => {
            kernel_info::reply(services.interpreter.info()).into()
        }
        JupyterMessageContent::ExecuteRequest(cell) => {
            execute::execute(services, request, cell).await.into()
        }
        JupyterMessageContent::IsCompleteRequest(check) => {
            match services.interpreter.is_complete(&check.code) {
                Completeness::Complete => IsCompleteReply::complete(),
                Completeness::Incomplete { indent } => IsCompleteReply::incomplete(indent),
                Completeness::Invalid => IsCompleteReply::invalid(),
            }
            .into()
        }
        JupyterMessageContent::CompleteRequest(wanted) => {
            let found = services
                .interpreter
                .complete(&wanted.code, wanted.cursor_pos)
                .await;
            CompleteReply {
                matches: found.matches,
                cursor_start: found.cursor_start,
                cursor_end: found.cursor_end,
                ..CompleteReply::default()
            }
            .into()
        }
        JupyterMessageContent::InspectRequest(_) => InspectReply::default().into(),
        JupyterMessageContent::HistoryRequest(wanted) => {
            HistoryReply::new(services.history.answer(wanted)).into()
        }
        JupyterMessageContent::CommInfoRequest(info) => comms::comm_info(services, info).into(),
        JupyterMessageContent::CommOpen(open) => {
            comms::comm_open(services, request, open).await;
            return (None, None);
        }
        JupyterMessageContent::CommMsg(msg) => {
            comms::comm_msg(services, request, msg).await;
            return (None, None);
        }
        JupyterMessageContent::CommClose(close) => {
            comms::comm_close(services, request, close).await;
            return (None, None);
        }
        JupyterMessageContent::ShutdownRequest(shutdown) => {
            let reply = ShutdownReply {
                restart: shutdown.restart,
                ..ShutdownReply::default()
            };
            return (Some(reply.into()), Some(Stop::Shutdown));
        }
        other => {
            eprintln!(
                "flow-edge-kernel: shell: no handler for {}",
                other.message_type()
            );
            return (None, None);
        }
    };
    (Some(reply), None)
}
