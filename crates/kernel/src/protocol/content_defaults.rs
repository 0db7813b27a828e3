//! Fields the messaging spec lets a client leave out but jupyter-protocol's types require.
//!
//! jupyter_client sends a `history_request` of type `search` without `n` or `unique` when the
//! caller gave none; without the spec's defaults the typed parse fails and the request would be
//! dropped as malformed, leaving the client waiting for a reply.

use serde_json::{json, Value};

/// Fills in the spec's defaults for optional fields of `msg_type`'s content.
pub(crate) fn with_defaults(msg_type: &str, mut content: Value) -> Value {
    if msg_type == "history_request" {
        if let Value::Object(fields) = &mut content {
            for (name, default) in [
                ("output", json!(false)),
                ("raw", json!(false)),
                ("unique", json!(false)),
                ("n", json!(0)),
            ] {
                fields.entry(name).or_insert(default);
            }
        }
    }
    content
}

#[cfg(test)]
mod tests {
    use super::*;
    use jupyter_protocol::JupyterMessageContent;

    #[test]
    fn a_search_without_n_or_unique_parses() {
        let content =
            json!({"hist_access_type": "search", "pattern": "6 * 7", "raw": true, "output": false});
        assert!(
            JupyterMessageContent::from_type_and_content("history_request", content.clone())
                .is_err()
        );
        let parsed = JupyterMessageContent::from_type_and_content(
            "history_request",
            with_defaults("history_request", content),
        );
        assert!(matches!(
            parsed,
            Ok(JupyterMessageContent::HistoryRequest(_))
        ));
    }

    #[test]
    fn given_fields_are_kept() {
        let content = json!({"hist_access_type": "tail", "n": 3, "raw": true, "output": true});
        assert_eq!(with_defaults("history_request", content.clone())["n"], 3);
        assert_eq!(with_defaults("execute_request", content.clone()), content);
    }
}
