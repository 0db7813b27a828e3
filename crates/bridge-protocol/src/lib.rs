//! What the flow-edge kernel and its widgets library say to each other, and nothing else.
//!
//! The widgets live in evcxr's subprocess, next to the closures of the cells; the Jupyter
//! sockets live in the kernel process. Both sides need the same two vocabularies, and this
//! crate holds them so that neither depends on the other (the kernel knows the messages, not
//! the widget controls; the widgets know the messages, not the kernel):
//!
//! - [`wire`]: the bridge, a Unix socket named by [`wire::BRIDGE_ENV`] carrying one JSON
//!   object per line ([`wire::BridgeMessage`]), with `ack` and `done` answers.
//! - [`widget_protocol`]: the Jupyter widget messaging protocol 2.1.0 the comms carry (comm
//!   targets, `update`, `echo_update`, `request_states`, view bundles).
//!
//! A kernel-side round trip, as the kernel forwards a browser click and reads the answer:
//!
//! ```
//! use flow_edge_bridge_protocol::wire::BridgeMessage;
//! use serde_json::json;
//!
//! let click = BridgeMessage::CommMsg {
//!     seq: 7,
//!     comm_id: "4f2a".into(),
//!     data: json!({"method": "custom", "content": {"event": "click"}}),
//!     metadata: json!({}),
//! };
//! let line = click.to_line(); // what goes on the socket, newline included
//! assert_eq!(BridgeMessage::from_line(&line), Ok(click));
//! assert_eq!(
//!     BridgeMessage::from_line(r#"{"type":"done","seq":7}"#),
//!     Ok(BridgeMessage::Done { seq: 7 })
//! );
//! ```
//!
//! Its only dependency is `serde_json`, so every side (and a notebook's `:dep`) builds it in
//! seconds.

pub mod widget_protocol;
pub mod wire;
