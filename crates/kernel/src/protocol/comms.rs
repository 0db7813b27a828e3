//! Comm messages from the frontend: routed to the widgets library through the bridge.
//!
//! Handled in the shell loop, after any running cell (as ipykernel does). The kernel goes
//! idle only when the library reports the message handled, callbacks included, or when the
//! callback timeout passed (reported on stderr; until that callback returns, events for the
//! same library are refused at once, with a word on stderr). The widget manager's
//! `request_states` goes to every library connection and the kernel answers it once, with all
//! their states merged (no states without a library); comms on other targets nobody
//! implements are closed.

use super::Services;
use crate::bridge::ForwardError;
use flow_edge_bridge_protocol::widget_protocol::{self as widgets, CONTROL_TARGET};
use flow_edge_bridge_protocol::wire::BridgeMessage;
use jupyter_protocol::{
    CommClose, CommInfo, CommInfoReply, CommInfoRequest, CommMsg, CommOpen, JupyterMessage,
    StreamContent,
};
use serde_json::{Map, Value};
use std::time::{Duration, Instant};

/// How long the kernel waits for a widget callback by default.
const DEFAULT_CALLBACK_TIMEOUT: Duration = Duration::from_secs(60);
/// Overrides the callback timeout, in seconds.
pub(crate) const CALLBACK_TIMEOUT_ENV: &str = "FLOW_EDGE_CALLBACK_TIMEOUT_SECS";

pub(crate) fn callback_timeout() -> Duration {
    std::env::var(CALLBACK_TIMEOUT_ENV)
        .ok()
        .and_then(|text| text.parse::<f64>().ok())
        .filter(|seconds| seconds.is_finite() && *seconds > 0.0)
        .map_or(DEFAULT_CALLBACK_TIMEOUT, Duration::from_secs_f64)
}

pub(crate) async fn comm_open<I>(
    services: &Services<I>,
    request: &JupyterMessage,
    open: &CommOpen,
) {
    let comm_id = open.comm_id.0.clone();
    services.comms.opened(&comm_id, &open.target_name, None);
    let forwarded = forward_and_wait(services, request, &comm_id, |seq| BridgeMessage::CommOpen {
        seq,
        comm_id: comm_id.clone(),
        target_name: open.target_name.clone(),
        data: Value::Object(open.data.clone()),
        metadata: request.metadata.clone(),
    })
    .await;
    if forwarded.is_err() && open.target_name != CONTROL_TARGET {
        // Nobody here implements this target: close it, as ipykernel does.
        services.comms.closed(&comm_id);
        services.publisher.send(
            Some(request),
            CommClose {
                comm_id: open.comm_id.clone(),
                data: Map::new(),
            },
        );
    }
}

pub(crate) async fn comm_msg<I>(services: &Services<I>, request: &JupyterMessage, msg: &CommMsg) {
    let comm_id = &msg.comm_id.0;
    let asks_for_states = msg.data.get("method").and_then(Value::as_str) == Some("request_states");
    if asks_for_states {
        services.bridge.collect_replies(comm_id);
    }
    let forwarded = forward_and_wait(services, request, comm_id, |seq| BridgeMessage::CommMsg {
        seq,
        comm_id: comm_id.clone(),
        data: Value::Object(msg.data.clone()),
        metadata: request.metadata.clone(),
    })
    .await;
    if asks_for_states {
        let states = merged_states(services.bridge.collected(comm_id));
        let data = widgets::update_states_data(states);
        services.publisher.send(
            Some(request),
            CommMsg {
                comm_id: msg.comm_id.clone(),
                data: data.as_object().cloned().unwrap_or_default(),
            },
        );
    } else if let Err(error) = forwarded {
        eprintln!("flow-edge-kernel: comm_msg for {comm_id} dropped: {error}");
    }
}

/// One `states` map out of the `update_states` replies of every library connection.
fn merged_states(replies: Vec<Value>) -> Map<String, Value> {
    let mut states = Map::new();
    for reply in replies {
        if let Some(Value::Object(more)) = reply.get("states") {
            states.extend(more.clone());
        }
    }
    states
}

pub(crate) async fn comm_close<I>(
    services: &Services<I>,
    request: &JupyterMessage,
    close: &CommClose,
) {
    // A library that is not there has nothing to close; not an error.
    let _ = forward_and_wait(services, request, &close.comm_id.0, |seq| {
        BridgeMessage::CommClose {
            seq,
            comm_id: close.comm_id.0.clone(),
            data: Value::Object(close.data.clone()),
        }
    })
    .await;
    services.comms.closed(&close.comm_id.0);
}

pub(crate) fn comm_info<I>(services: &Services<I>, info: &CommInfoRequest) -> CommInfoReply {
    let comms = services
        .comms
        .list(info.target_name.as_deref())
        .into_iter()
        .map(|(id, target_name)| (id.into(), CommInfo { target_name }))
        .collect();
    CommInfoReply {
        comms,
        ..CommInfoReply::default()
    }
}

/// Forwards to the libraries concerned by `comm_id` and waits for their `done`, at most the
/// callback timeout in all. Err means no library got the message (not connected, gone, or
/// busy with a callback that has not returned: then the frontend is told at once, instead of
/// every later event waiting the whole timeout behind it).
async fn forward_and_wait<I>(
    services: &Services<I>,
    request: &JupyterMessage,
    comm_id: &str,
    build: impl Fn(u64) -> BridgeMessage,
) -> Result<(), ForwardError> {
    let forwarded = match services.bridge.forward(comm_id, build).await {
        Ok(forwarded) => forwarded,
        Err(ForwardError::Busy { since }) => {
            tell_busy(services, request, since);
            return Err(ForwardError::Busy { since });
        }
        Err(error) => return Err(error),
    };
    if let Some(since) = forwarded.skipped_busy {
        tell_busy(services, request, since);
    }
    let timeout = callback_timeout();
    if services
        .bridge
        .wait_done(forwarded.sent, timeout)
        .await
        .is_err()
    {
        let warning = format!(
            "flow-edge-kernel: a widget callback still runs after {:.0} s; the kernel stops \
             waiting for it and goes idle. That cell's widgets ignore events until it returns.\n",
            timeout.as_secs_f64()
        );
        services
            .publisher
            .send(Some(request), StreamContent::stderr(&warning));
    }
    Ok(())
}

/// Says on the frontend that an event was not delivered because a callback is stuck.
fn tell_busy<I>(services: &Services<I>, request: &JupyterMessage, since: Instant) {
    let text = format!(
        "flow-edge-kernel: {}; this event was not delivered.\n",
        ForwardError::Busy { since }
    );
    services
        .publisher
        .send(Some(request), StreamContent::stderr(&text));
}
