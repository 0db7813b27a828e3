//! `Text`: a one-line text box (ipywidgets' `Text`), with Enter as a submit event.

use super::selection::description_html;
use super::string::{string_attributes, NO_PLACEHOLDER};
use super::style::{self, StyleSpec};
use crate::model::{escape_html, Kind, Model, Module};
use crate::widget::{create_dom_widget, widget_handle};
use serde_json::json;
use std::sync::Arc;

static TEXT: Kind = Kind {
    name: "Text",
    model_name: "TextModel",
    model_module: Module::Controls,
    view_name: "TextView",
    view_module: Module::Controls,
    render_html: |model| {
        format!(
            "{}<input type=\"text\" value=\"{}\" placeholder=\"{}\" disabled>",
            description_html(model),
            escape_html(&model.get_str("value")),
            escape_html(&model.get_str("placeholder").replace(NO_PLACEHOLDER, ""))
        )
    },
    render_text: |model| {
        format!(
            "Text(description={:?}, value={:?})",
            model.get_str("description"),
            model.get_str("value")
        )
    },
};

static TEXT_STYLE: StyleSpec = StyleSpec {
    kind: &style::style_kind("TextStyle", "TextStyleModel"),
    defaults: style::text_style_defaults,
};

/// A text box. What the user types reaches Rust as they type (ipywidgets'
/// `continuous_update`), so [`value`](Text::value) is current in every callback.
///
/// ```no_run
/// use flow_edge_widgets::Text;
/// let quick_ip = Text::new("");
/// quick_ip.set_placeholder("10.0.0.1");
/// quick_ip.on_submit(|t| flow_edge_widgets::print_to_frontend(&format!("scoring {}\n", t.value())));
/// ```
#[derive(Clone)]
pub struct Text {
    model: Arc<Model>,
}

widget_handle!(Text);

impl Text {
    /// A text box holding `value`.
    pub fn new(value: impl Into<String>) -> Text {
        let mut attributes = string_attributes(value.into());
        attributes.insert("continuous_update".into(), json!(true));
        attributes.insert("disabled".into(), json!(false));
        Text {
            model: create_dom_widget(&TEXT, Some(&TEXT_STYLE), attributes),
        }
    }

    /// The text in the box.
    pub fn value(&self) -> String {
        self.model.get_str("value")
    }

    /// Replaces the text on every view.
    pub fn set_value(&self, value: impl Into<String>) {
        self.model.set("value", json!(value.into()));
    }

    /// Sets the grey hint shown while the box is empty.
    pub fn set_placeholder(&self, placeholder: &str) {
        self.model.set("placeholder", json!(placeholder));
    }

    /// The label shown beside the box.
    pub fn description(&self) -> String {
        self.model.get_str("description")
    }

    /// Changes the label shown beside the box.
    pub fn set_description(&self, description: &str) {
        self.model.set("description", json!(description));
    }

    /// Enables or disables typing in the browser.
    pub fn set_disabled(&self, disabled: bool) {
        self.model.set("disabled", json!(disabled));
    }

    /// Runs `callback` when the user presses Enter in the box (the frontend's
    /// `{"event": "submit"}`); [`value`](Text::value) already holds what they typed.
    ///
    /// The callback runs on a library thread: print with
    /// [`print_to_frontend`](crate::print_to_frontend). A panic is caught and shown.
    pub fn on_submit(&self, callback: impl Fn(&Text) + Send + Sync + 'static) {
        self.model.on_event("submit", move |model| {
            callback(&Text {
                model: Arc::clone(model),
            })
        });
    }

    /// Runs `callback` after the user changed the text in the browser (every keystroke, as
    /// ipywidgets' default `continuous_update` sends them). Changes made from Rust do not
    /// call it.
    pub fn on_change(&self, callback: impl Fn(&Text) + Send + Sync + 'static) {
        self.model
            .on_frontend_change(Arc::new(move |model, changes| {
                if changes.contains_key("value") {
                    callback(&Text {
                        model: Arc::clone(model),
                    });
                }
            }));
    }
}
