//! The bridge between the flow-edge kernel and the widgets library (`flow_edge_widgets`).
//!
//! Widgets live in evcxr's subprocess, next to the closures of the cells; the Jupyter sockets
//! live in the kernel process. The two talk over a Unix socket whose path the kernel puts in
//! [`BRIDGE_ENV`]. Each message is one JSON object on one line (compact JSON never contains a
//! newline). Both sides number the requests they originate with `seq`; the other side answers
//! with the same number:
//!
//! | direction        | request                                              | answer            |
//! |------------------|------------------------------------------------------|-------------------|
//! | kernel → library | `comm_open`, `comm_msg`, `comm_close` (frontend's)   | `done` when handled, callbacks included |
//! | library → kernel | `comm_open`, `comm_msg`, `comm_close`, `stream`      | `ack` once published on iopub |
//!
//! The library waits for each `ack` before going on, so a widget's `comm_open` reaches the
//! frontend before the `display_data` that names it (display travels through evcxr's stdout,
//! a different path). The kernel waits for `done` before it reports the kernel idle.
//!
//! Example line: `{"type":"comm_msg","seq":7,"comm_id":"4f..","data":{"method":"update","state":{"value":"hi"},"buffer_paths":[]}}`

use serde_json::{json, Map, Value};
use std::fmt;

/// Environment variable holding the path of the kernel's bridge socket.
pub const BRIDGE_ENV: &str = "FLOW_EDGE_BRIDGE";

/// Which output stream a callback's text belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamName {
    /// Ordinary output.
    Stdout,
    /// Diagnostics, including panics of callbacks.
    Stderr,
}

impl StreamName {
    /// The Jupyter name of the stream.
    pub fn as_str(self) -> &'static str {
        match self {
            StreamName::Stdout => "stdout",
            StreamName::Stderr => "stderr",
        }
    }
}

/// One message of the bridge protocol.
#[derive(Debug, Clone, PartialEq)]
pub enum BridgeMessage {
    /// Open a comm: a widget created in Rust, or the frontend's `jupyter.widget.control`.
    CommOpen {
        seq: u64,
        comm_id: String,
        target_name: String,
        data: Value,
        metadata: Value,
    },
    /// A message on an open comm.
    CommMsg {
        seq: u64,
        comm_id: String,
        data: Value,
        metadata: Value,
    },
    /// Close a comm.
    CommClose {
        seq: u64,
        comm_id: String,
        data: Value,
    },
    /// Text a callback wants shown (callbacks must never write to the process's stdout).
    Stream {
        seq: u64,
        name: StreamName,
        text: String,
    },
    /// The kernel published the library's request `seq`.
    Ack { seq: u64 },
    /// The library finished handling the kernel's request `seq`, callbacks included.
    Done { seq: u64 },
}

/// Why a line could not be read as a [`BridgeMessage`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WireError {
    /// The line is not JSON.
    NotJson(String),
    /// The JSON has no `type` or one this protocol does not define.
    UnknownType(String),
    /// A field is missing or has the wrong JSON type.
    BadField {
        message_type: String,
        field: &'static str,
    },
}

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WireError::NotJson(reason) => write!(f, "bridge line is not JSON: {reason}"),
            WireError::UnknownType(kind) => write!(f, "bridge message of unknown type {kind:?}"),
            WireError::BadField {
                message_type,
                field,
            } => write!(
                f,
                "bridge message {message_type:?} has a missing or malformed field {field:?}"
            ),
        }
    }
}

impl std::error::Error for WireError {}

impl BridgeMessage {
    /// The sequence number this message carries or answers.
    pub fn seq(&self) -> u64 {
        match self {
            BridgeMessage::CommOpen { seq, .. }
            | BridgeMessage::CommMsg { seq, .. }
            | BridgeMessage::CommClose { seq, .. }
            | BridgeMessage::Stream { seq, .. }
            | BridgeMessage::Ack { seq }
            | BridgeMessage::Done { seq } => *seq,
        }
    }

    /// One line of compact JSON, newline included.
    pub fn to_line(&self) -> String {
        let value = match self {
            BridgeMessage::CommOpen {
                seq,
                comm_id,
                target_name,
                data,
                metadata,
            } => json!({"type": "comm_open", "seq": seq, "comm_id": comm_id,
                        "target_name": target_name, "data": data, "metadata": metadata}),
            BridgeMessage::CommMsg {
                seq,
                comm_id,
                data,
                metadata,
            } => json!({"type": "comm_msg", "seq": seq, "comm_id": comm_id,
                        "data": data, "metadata": metadata}),
            BridgeMessage::CommClose { seq, comm_id, data } => {
                json!({"type": "comm_close", "seq": seq, "comm_id": comm_id, "data": data})
            }
            BridgeMessage::Stream { seq, name, text } => {
                json!({"type": "stream", "seq": seq, "name": name.as_str(), "text": text})
            }
            BridgeMessage::Ack { seq } => json!({"type": "ack", "seq": seq}),
            BridgeMessage::Done { seq } => json!({"type": "done", "seq": seq}),
        };
        let mut line = value.to_string();
        line.push('\n');
        line
    }

    /// Reads one line (with or without its newline).
    pub fn from_line(line: &str) -> Result<BridgeMessage, WireError> {
        let value: Value =
            serde_json::from_str(line.trim_end()).map_err(|e| WireError::NotJson(e.to_string()))?;
        let fields = value
            .as_object()
            .ok_or_else(|| WireError::UnknownType(value.to_string()))?;
        let kind = fields
            .get("type")
            .and_then(Value::as_str)
            .ok_or_else(|| WireError::UnknownType(String::from("<none>")))?;
        let reader = FieldReader { kind, fields };
        let seq = reader.seq()?;
        Ok(match kind {
            "comm_open" => BridgeMessage::CommOpen {
                seq,
                comm_id: reader.string("comm_id")?,
                target_name: reader.string("target_name")?,
                data: reader.object_or_empty("data"),
                metadata: reader.object_or_empty("metadata"),
            },
            "comm_msg" => BridgeMessage::CommMsg {
                seq,
                comm_id: reader.string("comm_id")?,
                data: reader.object_or_empty("data"),
                metadata: reader.object_or_empty("metadata"),
            },
            "comm_close" => BridgeMessage::CommClose {
                seq,
                comm_id: reader.string("comm_id")?,
                data: reader.object_or_empty("data"),
            },
            "stream" => BridgeMessage::Stream {
                seq,
                name: match reader.string("name")?.as_str() {
                    "stdout" => StreamName::Stdout,
                    "stderr" => StreamName::Stderr,
                    _ => return Err(reader.bad("name")),
                },
                text: reader.string("text")?,
            },
            "ack" => BridgeMessage::Ack { seq },
            "done" => BridgeMessage::Done { seq },
            other => return Err(WireError::UnknownType(other.to_owned())),
        })
    }
}

/// Typed access to the fields of one incoming message, with errors naming the field.
struct FieldReader<'a> {
    kind: &'a str,
    fields: &'a Map<String, Value>,
}

impl FieldReader<'_> {
    fn bad(&self, field: &'static str) -> WireError {
        WireError::BadField {
            message_type: self.kind.to_owned(),
            field,
        }
    }

    fn seq(&self) -> Result<u64, WireError> {
        self.fields
            .get("seq")
            .and_then(Value::as_u64)
            .ok_or_else(|| self.bad("seq"))
    }

    fn string(&self, field: &'static str) -> Result<String, WireError> {
        self.fields
            .get(field)
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| self.bad(field))
    }

    fn object_or_empty(&self, field: &str) -> Value {
        match self.fields.get(field) {
            Some(value @ Value::Object(_)) => value.clone(),
            _ => Value::Object(Map::new()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_message_survives_a_round_trip_through_one_line() {
        let messages = [
            BridgeMessage::CommOpen {
                seq: 1,
                comm_id: "a".into(),
                target_name: "jupyter.widget".into(),
                data: json!({"state": {"value": "x\ny"}, "buffer_paths": []}),
                metadata: json!({"version": "2.1.0"}),
            },
            BridgeMessage::CommMsg {
                seq: 2,
                comm_id: "a".into(),
                data: json!({"method": "custom", "content": {"event": "click"}}),
                metadata: json!({}),
            },
            BridgeMessage::CommClose {
                seq: 3,
                comm_id: "a".into(),
                data: json!({}),
            },
            BridgeMessage::Stream {
                seq: 4,
                name: StreamName::Stderr,
                text: "two\nlines\n".into(),
            },
            BridgeMessage::Ack { seq: 5 },
            BridgeMessage::Done { seq: 6 },
        ];
        for message in messages {
            let line = message.to_line();
            assert_eq!(line.matches('\n').count(), 1, "one line: {line}");
            assert_eq!(BridgeMessage::from_line(&line), Ok(message));
        }
    }

    #[test]
    fn malformed_lines_are_errors_that_name_the_problem() {
        assert!(matches!(
            BridgeMessage::from_line("not json"),
            Err(WireError::NotJson(_))
        ));
        assert_eq!(
            BridgeMessage::from_line(r#"{"type":"launch","seq":1}"#),
            Err(WireError::UnknownType("launch".into()))
        );
        let error = BridgeMessage::from_line(r#"{"type":"comm_msg","seq":1}"#).unwrap_err();
        assert_eq!(
            error.to_string(),
            "bridge message \"comm_msg\" has a missing or malformed field \"comm_id\""
        );
    }
}
