//! `Html`: a block of HTML whose content Rust can change (ipywidgets' `HTML`).

use super::string::string_attributes;
use super::style::{self, StyleSpec};
use crate::model::{Kind, Model, Module};
use crate::widget::{create_dom_widget, widget_handle};
use serde_json::json;
use std::sync::Arc;

static HTML: Kind = Kind {
    name: "HTML",
    model_name: "HTMLModel",
    model_module: Module::Controls,
    view_name: "HTMLView",
    view_module: Module::Controls,
    render_html: |model| model.get_str("value"),
    render_text: |model| format!("HTML(value={:?})", model.get_str("value")),
};

static HTML_STYLE: StyleSpec = StyleSpec {
    kind: &style::style_kind("HTMLStyle", "HTMLStyleModel"),
    defaults: style::text_style_defaults,
};

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
        let attributes = string_attributes(value.into());
        Html {
            model: create_dom_widget(&HTML, Some(&HTML_STYLE), attributes),
        }
    }

    /// The current markup.
    pub fn value(&self) -> String {
        self.model.get_str("value")
    }

    /// Replaces the markup on every view.
    pub fn set_value(&self, value: impl Into<String>) {
        self.model.set("value", json!(value.into()));
    }
}
