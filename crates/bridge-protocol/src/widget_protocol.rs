//! The Jupyter widgets messaging protocol, version 2.1.0, in one place.
//!
//! Reference: jupyter-widgets/ipywidgets `packages/schema/messages.md`. Every widget is a
//! comm on target `jupyter.widget`; the frontend's manager also opens
//! `jupyter.widget.control` to ask for all states at once.

use serde_json::{json, Map, Value};

/// Protocol version sent in the `metadata.version` of every widget `comm_open`.
pub const PROTOCOL_VERSION: &str = "2.1.0";
/// Comm target of widget models.
pub const WIDGET_TARGET: &str = "jupyter.widget";
/// Comm target the frontend opens to fetch all widget states.
pub const CONTROL_TARGET: &str = "jupyter.widget.control";
/// Mime type of a widget view in `display_data`.
pub const VIEW_MIME_TYPE: &str = "application/vnd.jupyter.widget-view+json";
/// npm module of the controls (Button, HTML, boxes) and its model version.
pub const CONTROLS_MODULE: &str = "@jupyter-widgets/controls";
/// npm module of the base models (Layout, StyleView).
pub const BASE_MODULE: &str = "@jupyter-widgets/base";
/// Model version of both modules in ipywidgets 8.
pub const MODULE_VERSION: &str = "2.0.0";
/// npm module of the Output widget, which has its own version.
pub const OUTPUT_MODULE: &str = "@jupyter-widgets/output";
/// Model version of the Output module in ipywidgets 8.
pub const OUTPUT_MODULE_VERSION: &str = "1.0.0";
/// Prefix that turns a model id into a reference inside another model's state.
pub const MODEL_REFERENCE_PREFIX: &str = "IPY_MODEL_";

/// What the frontend asks of one widget, decoded from a `comm_msg`'s `data`.
#[derive(Debug, Clone, PartialEq)]
pub enum FrontendRequest {
    /// The user changed synced attributes (`method: update`).
    Update(Map<String, Value>),
    /// The frontend wants the full state again (`method: request_state`).
    RequestState,
    /// A widget-specific event such as a button's `{"event": "click"}` (`method: custom`).
    Custom(Value),
    /// `method: request_states` on the control comm.
    RequestStates,
    /// Anything else; kept so the caller can report it.
    Unknown(String),
}

impl FrontendRequest {
    /// Decodes the `data` of a frontend `comm_msg`.
    pub fn from_data(data: &Value) -> FrontendRequest {
        let method = data.get("method").and_then(Value::as_str).unwrap_or("");
        match method {
            "update" => FrontendRequest::Update(
                data.get("state")
                    .and_then(Value::as_object)
                    .cloned()
                    .unwrap_or_default(),
            ),
            "request_state" => FrontendRequest::RequestState,
            "custom" => {
                FrontendRequest::Custom(data.get("content").cloned().unwrap_or(Value::Null))
            }
            "request_states" => FrontendRequest::RequestStates,
            other => FrontendRequest::Unknown(other.to_owned()),
        }
    }
}

/// `data` of a widget's `comm_open`: the full state.
pub fn open_data(state: &Map<String, Value>) -> Value {
    json!({"state": state, "buffer_paths": []})
}

/// `metadata` of a widget's `comm_open`.
pub fn open_metadata() -> Value {
    json!({"version": PROTOCOL_VERSION})
}

/// `data` of a kernel-side state change (`method: update`).
pub fn update_data(changes: &Map<String, Value>) -> Value {
    json!({"method": "update", "state": changes, "buffer_paths": []})
}

/// `data` confirming the frontend's own change back to it (`method: echo_update`).
pub fn echo_update_data(changes: &Map<String, Value>) -> Value {
    json!({"method": "echo_update", "state": changes, "buffer_paths": []})
}

/// `data` answering `request_states` on the control comm.
pub fn update_states_data(states: Map<String, Value>) -> Value {
    json!({"method": "update_states", "states": states, "buffer_paths": {}})
}

/// The view bundle naming a model, as displayed in a notebook output.
pub fn view_bundle(model_id: &str) -> Value {
    json!({"model_id": model_id, "version_major": 2, "version_minor": 1})
}

/// A reference to a model inside another model's state (`children`, `layout`, `style`).
pub fn model_reference(model_id: &str) -> Value {
    Value::String(format!("{MODEL_REFERENCE_PREFIX}{model_id}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_button_click_decodes_as_a_custom_event() {
        let data = json!({"method": "custom", "content": {"event": "click"}});
        assert_eq!(
            FrontendRequest::from_data(&data),
            FrontendRequest::Custom(json!({"event": "click"}))
        );
    }

    #[test]
    fn an_update_keeps_only_the_changed_attributes() {
        let data = json!({"method": "update", "state": {"value": "typed"}, "buffer_paths": []});
        let FrontendRequest::Update(state) = FrontendRequest::from_data(&data) else {
            panic!("not an update");
        };
        assert_eq!(Value::Object(state), json!({"value": "typed"}));
    }

    #[test]
    fn an_unknown_method_is_reported_by_name() {
        let data = json!({"method": "explode"});
        assert_eq!(
            FrontendRequest::from_data(&data),
            FrontendRequest::Unknown("explode".into())
        );
    }
}
