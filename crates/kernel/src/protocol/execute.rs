//! `execute_request`: run a cell, publish its input, outputs and errors, build the reply.

use super::Services;
use crate::interpreter::{Bundle, ErrorReport, Interpreter};
use jupyter_protocol::{
    DisplayData, ErrorOutput, ExecuteInput, ExecuteReply, ExecuteRequest, ExecuteResult,
    ExecutionCount, JupyterMessage, Media, MediaType, ReplyError, ReplyStatus, Transient,
};
use serde_json::Value;
use std::collections::HashMap;

/// Runs the cell of `request` and returns the reply content.
pub(crate) async fn execute<I: Interpreter>(
    services: &mut Services<I>,
    request: &JupyterMessage,
    execute: &ExecuteRequest,
) -> ExecuteReply {
    let stores_history = execute.store_history && !execute.silent;
    if stores_history {
        services.execution_count += 1;
    }
    let count = ExecutionCount::new(services.execution_count);
    let (reply, plain_result) = run_cell(services, request, execute, count).await;
    if stores_history {
        let line = services.execution_count;
        services.history.record(line, &execute.code, plain_result);
    }
    reply
}

/// Runs the cell and publishes its outputs; returns the reply and the result's `text/plain`.
async fn run_cell<I: Interpreter>(
    services: &Services<I>,
    request: &JupyterMessage,
    execute: &ExecuteRequest,
    count: ExecutionCount,
) -> (ExecuteReply, Option<String>) {
    let publisher = &services.publisher;
    if !execute.silent {
        publisher.send(
            Some(request),
            ExecuteInput {
                code: execute.code.clone(),
                execution_count: count,
            },
        );
    }
    match services.interpreter.execute(&execute.code).await {
        Ok(cell) => {
            let plain_result = cell
                .value
                .as_ref()
                .and_then(|value| value.get("text/plain"))
                .and_then(Value::as_str)
                .map(str::to_owned);
            if !execute.silent {
                for display in cell.displays {
                    publisher.send(Some(request), DisplayData::new(media(display)));
                }
                if let Some(value) = cell.value {
                    let result = ExecuteResult {
                        // The spec wants an object here; `None` would go out as null.
                        transient: Some(Transient::default()),
                        ..ExecuteResult::new(count, media(value))
                    };
                    publisher.send(Some(request), result);
                }
            }
            let reply = ExecuteReply {
                status: ReplyStatus::Ok,
                execution_count: count,
                user_expressions: Some(HashMap::new()),
                ..ExecuteReply::default()
            };
            (reply, plain_result)
        }
        Err(report) => {
            publisher.send(Some(request), error_output(&report));
            let reply = ExecuteReply {
                status: ReplyStatus::Error,
                execution_count: count,
                error: Some(Box::new(ReplyError {
                    ename: report.ename,
                    evalue: report.evalue,
                    traceback: report.traceback,
                })),
                user_expressions: Some(HashMap::new()),
                ..ExecuteReply::default()
            };
            (reply, None)
        }
    }
}

fn error_output(report: &ErrorReport) -> ErrorOutput {
    ErrorOutput {
        ename: report.ename.clone(),
        evalue: report.evalue.clone(),
        traceback: report.traceback.clone(),
    }
}

/// A mime bundle as jupyter-protocol's `Media`; JSON mime types stay JSON objects.
fn media(bundle: Bundle) -> Media {
    let fallback = bundle
        .get("text/plain")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    serde_json::from_value(Value::Object(bundle))
        .unwrap_or_else(|_| Media::new(vec![MediaType::Plain(fallback)]))
}
