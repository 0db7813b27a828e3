//! `Html`: a block of HTML whose content Rust can change (ipywidgets' `HTML`).

use super::string::STRING_FIELDS;
use super::style::{style_kind, TEXT_STYLE_FIELDS};
use crate::attribute::Attribute;
use crate::model::{Kind, Model, Module};
use crate::widget::{create_dom_widget, widget_handle, DOM_FIELDS, STYLE_FIELD};
use serde_json::json;
use std::sync::Arc;

static HTML: Kind = Kind {
    name: "HTML",
    model_name: "HTMLModel",
    model_module: Module::Controls,
    view_name: "HTMLView",
    view_module: Module::Controls,
    fields: &[DOM_FIELDS, STYLE_FIELD, STRING_FIELDS],
    style: Some(&HTML_STYLE),
    render_html: |model| model.get_str(Attribute::Value),
    render_text: |model| format!("HTML(value={:?})", model.get_str(Attribute::Value)),
};

static HTML_STYLE: Kind = style_kind("HTMLStyle", "HTMLStyleModel", &[TEXT_STYLE_FIELDS]);

/// Shows HTML; [`set_value`](Html::set_value) replaces it on every view, also from a callback.
///
/// ```no_run
/// use flow_edge_widgets::Html;
/// let status = Html::new("<b>waiting</b>");
/// status.set_value("<b>done</b>");
/// ```
#[derive(Clone)]
pub struct Html {
    model: Arc<Model>,
}

widget_handle!(Html);

impl Html {
    /// Shows `value` (HTML markup, not escaped).
    pub fn new(value: impl Into<String>) -> Html {
        Html {
            model: create_dom_widget(&HTML, vec![(Attribute::Value, json!(value.into()))]),
        }
    }

    /// The current markup.
    pub fn value(&self) -> String {
        self.model.get_str(Attribute::Value)
    }

    /// Replaces the markup on every view.
    pub fn set_value(&self, value: impl Into<String>) {
        self.model.set(Attribute::Value, json!(value.into()));
    }
}
