//! `Label`: plain text, escaped (ipywidgets' `Label`); use `Html` for markup.

use super::string::string_attributes;
use super::style::{self, StyleSpec};
use crate::model::{escape_html, Kind, Model, Module};
use crate::widget::{create_dom_widget, widget_handle};
use serde_json::{json, Value};
use std::sync::Arc;

static LABEL: Kind = Kind {
    name: "Label",
    model_name: "LabelModel",
    model_module: Module::Controls,
    view_name: "LabelView",
    view_module: Module::Controls,
    render_html: |model| format!("<span>{}</span>", escape_html(&model.get_str("value"))),
    render_text: |model| format!("Label(value={:?})", model.get_str("value")),
};

static LABEL_STYLE: StyleSpec = StyleSpec {
    kind: &style::style_kind("LabelStyle", "LabelStyleModel"),
    defaults: || {
        style::attributes(&[
            ("background", Value::Null),
            ("description_width", json!("")),
            ("font_family", Value::Null),
            ("font_size", Value::Null),
            ("font_style", Value::Null),
            ("font_variant", Value::Null),
            ("font_weight", Value::Null),
            ("text_color", Value::Null),
            ("text_decoration", Value::Null),
        ])
    },
};

/// A line of text; unlike [`Html`](crate::Html) it shows `<` as `<`.
///
/// ```no_run
/// use flow_edge_widgets::Label;
/// let legend = Label::new("1: high, 2: medium, 3: low");
/// legend.set_value("1 = high");
/// ```
#[derive(Clone)]
pub struct Label {
    model: Arc<Model>,
}

widget_handle!(Label);

impl Label {
    /// Shows `value` as plain text.
    pub fn new(value: impl Into<String>) -> Label {
        let attributes = string_attributes(value.into());
        Label {
            model: create_dom_widget(&LABEL, Some(&LABEL_STYLE), attributes),
        }
    }

    /// The text shown.
    pub fn value(&self) -> String {
        self.model.get_str("value")
    }

    /// Replaces the text on every view.
    pub fn set_value(&self, value: impl Into<String>) {
        self.model.set("value", json!(value.into()));
    }
}
