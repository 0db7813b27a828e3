//! `Label`: plain text, escaped (ipywidgets' `Label`); use `Html` for markup.

use super::string::STRING_FIELDS;
use super::style::style_kind;
use crate::attribute::{Attribute, Field, Initial};
use crate::model::{escape_html, Kind, Model, Module};
use crate::widget::{create_dom_widget, widget_handle, DOM_FIELDS, STYLE_FIELD};
use serde_json::json;
use std::sync::Arc;

static LABEL: Kind = Kind {
    name: "Label",
    model_name: "LabelModel",
    model_module: Module::Controls,
    view_name: "LabelView",
    view_module: Module::Controls,
    fields: &[DOM_FIELDS, STYLE_FIELD, STRING_FIELDS],
    style: Some(&LABEL_STYLE),
    render_html: |model| {
        format!(
            "<span>{}</span>",
            escape_html(&model.get_str(Attribute::Value))
        )
    },
    render_text: |model| format!("Label(value={:?})", model.get_str(Attribute::Value)),
};

static LABEL_STYLE: Kind = style_kind(
    "LabelStyle",
    "LabelStyleModel",
    &[&[
        Field(Attribute::Background, Initial::Null),
        Field(Attribute::DescriptionWidth, Initial::Text("")),
        Field(Attribute::FontFamily, Initial::Null),
        Field(Attribute::FontSize, Initial::Null),
        Field(Attribute::FontStyle, Initial::Null),
        Field(Attribute::FontVariant, Initial::Null),
        Field(Attribute::FontWeight, Initial::Null),
        Field(Attribute::TextColor, Initial::Null),
        Field(Attribute::TextDecoration, Initial::Null),
    ]],
);

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
        Label {
            model: create_dom_widget(&LABEL, vec![(Attribute::Value, json!(value.into()))]),
        }
    }

    /// The text shown.
    pub fn value(&self) -> String {
        self.model.get_str(Attribute::Value)
    }

    /// Replaces the text on every view.
    pub fn set_value(&self, value: impl Into<String>) {
        self.model.set(Attribute::Value, json!(value.into()));
    }
}
