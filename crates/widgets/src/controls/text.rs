//! `Text`: a one-line text box (ipywidgets' `Text`), with Enter as a submit event.

use super::selection::description_html;
use super::string::{NO_PLACEHOLDER, STRING_FIELDS};
use super::style::{style_kind, TEXT_STYLE_FIELDS};
use crate::attribute::{Attribute, Field, Initial};
use crate::model::{escape_html, Kind, Model, Module};
use crate::widget::{create_dom_widget, widget_handle, DOM_FIELDS, STYLE_FIELD};
use serde_json::json;
use std::sync::Arc;

static TEXT: Kind = Kind {
    name: "Text",
    model_name: "TextModel",
    model_module: Module::Controls,
    view_name: "TextView",
    view_module: Module::Controls,
    fields: &[
        DOM_FIELDS,
        STYLE_FIELD,
        STRING_FIELDS,
        &[
            Field(Attribute::ContinuousUpdate, Initial::Bool(true)),
            Field(Attribute::Disabled, Initial::Bool(false)),
        ],
    ],
    style: Some(&TEXT_STYLE),
    render_html: |model| {
        format!(
            "{}<input type=\"text\" value=\"{}\" placeholder=\"{}\" disabled>",
            description_html(model),
            escape_html(&model.get_str(Attribute::Value)),
            escape_html(
                &model
                    .get_str(Attribute::Placeholder)
                    .replace(NO_PLACEHOLDER, "")
            )
        )
    },
    render_text: |model| {
        format!(
            "Text(description={:?}, value={:?})",
            model.get_str(Attribute::Description),
            model.get_str(Attribute::Value)
        )
    },
};

static TEXT_STYLE: Kind = style_kind("TextStyle", "TextStyleModel", &[TEXT_STYLE_FIELDS]);

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
        Text {
            model: create_dom_widget(&TEXT, vec![(Attribute::Value, json!(value.into()))]),
        }
    }

    /// The text in the box.
    pub fn value(&self) -> String {
        self.model.get_str(Attribute::Value)
    }

    /// Replaces the text on every view.
    pub fn set_value(&self, value: impl Into<String>) {
        self.model.set(Attribute::Value, json!(value.into()));
    }

    /// Sets the grey hint shown while the box is empty.
    pub fn set_placeholder(&self, placeholder: &str) {
        self.model.set(Attribute::Placeholder, json!(placeholder));
    }

    /// The label shown beside the box.
    pub fn description(&self) -> String {
        self.model.get_str(Attribute::Description)
    }

    /// Changes the label shown beside the box.
    pub fn set_description(&self, description: &str) {
        self.model.set(Attribute::Description, json!(description));
    }

    /// Enables or disables typing in the browser.
    pub fn set_disabled(&self, disabled: bool) {
        self.model.set(Attribute::Disabled, json!(disabled));
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
                if changes.contains(&Attribute::Value) {
                    callback(&Text {
                        model: Arc::clone(model),
                    });
                }
            }));
    }
}
