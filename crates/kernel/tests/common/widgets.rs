//! Widget helpers for the integration tests: what the kernel opened, and the frontend's side
//! of a comm.

use super::{Exchange, Kernel};
use jupyter_protocol::{CommId, CommMsg, JupyterMessage, JupyterMessageContent};
use serde_json::Value;
use std::time::Duration;

/// (comm id, state) of every widget comm_open in `exchange`, in order.
pub fn opened_widgets(exchange: &Exchange) -> Vec<(String, Value)> {
    exchange
        .contents()
        .filter_map(|content| match content {
            JupyterMessageContent::CommOpen(open) if open.target_name == "jupyter.widget" => {
                Some((
                    open.comm_id.0.clone(),
                    Value::Object(open.data.clone())["state"].clone(),
                ))
            }
            _ => None,
        })
        .collect()
}

/// The comm id of the widget opened with model `model_name`.
pub fn id_of(widgets: &[(String, Value)], model_name: &str) -> String {
    widgets
        .iter()
        .find(|(_, state)| state["_model_name"] == model_name)
        .map(|(id, _)| id.clone())
        .unwrap_or_else(|| panic!("no {model_name} opened"))
}

/// Sends a frontend comm message with `data` to widget `comm_id`; collects until idle.
pub async fn frontend_sends(kernel: &mut Kernel, comm_id: &str, data: Value) -> Exchange {
    let message: JupyterMessage = CommMsg {
        comm_id: CommId(comm_id.to_owned()),
        data: data.as_object().cloned().expect("an object"),
    }
    .into();
    kernel.send_comm(message, Duration::from_secs(60)).await
}

/// The `data` of the comm messages on `comm_id`, in order.
pub fn messages_on(exchange: &Exchange, comm_id: &str) -> Vec<Value> {
    exchange
        .contents()
        .filter_map(|content| match content {
            JupyterMessageContent::CommMsg(msg) if msg.comm_id.0 == comm_id => {
                Some(Value::Object(msg.data.clone()))
            }
            _ => None,
        })
        .collect()
}
