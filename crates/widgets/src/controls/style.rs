//! Style models: the satellites ipywidgets 8 gives some controls (`ButtonStyleModel`,
//! `HTMLStyleModel`, `DescriptionStyleModel`, ...), next to the layout every DOM widget has.
//!
//! They are models of their own with comms, opened before the widget that references them
//! so the frontend can resolve `IPY_MODEL_<id>`.

use crate::model::{Kind, Model, Module};
use serde_json::{Map, Value};
use std::sync::Arc;

/// The style model of a control: its name and its attributes with ipywidgets' defaults.
pub(crate) struct StyleSpec {
    pub(crate) kind: &'static Kind,
    pub(crate) defaults: fn() -> Map<String, Value>,
}

/// The kind of a style model: every one is viewed by the base `StyleView`,
/// shows nothing itself and describes itself by name and id.
pub(crate) const fn style_kind(name: &'static str, model_name: &'static str) -> Kind {
    Kind {
        name,
        model_name,
        model_module: Module::Controls,
        view_name: "StyleView",
        view_module: Module::Base,
        render_html: no_html,
        render_text: describe_style,
    }
}

fn no_html(_: &Model) -> String {
    String::new()
}

/// The style of controls that only have a description (`Select`, `RadioButtons`).
pub(crate) static DESCRIPTION_STYLE: StyleSpec = StyleSpec {
    kind: &style_kind("DescriptionStyle", "DescriptionStyleModel"),
    defaults: || attributes(&[("description_width", Value::String(String::new()))]),
};

/// The defaults `HTMLStyleModel` and `TextStyleModel` share.
pub(crate) fn text_style_defaults() -> Map<String, Value> {
    attributes(&[
        ("background", Value::Null),
        ("description_width", Value::String(String::new())),
        ("font_size", Value::Null),
        ("text_color", Value::Null),
    ])
}

/// Creates a style model from its spec.
pub(crate) fn new_style(spec: &StyleSpec) -> Arc<Model> {
    Model::create(spec.kind, (spec.defaults)())
}

/// Builds a style attribute map from (name, default) pairs.
pub(crate) fn attributes(pairs: &[(&str, Value)]) -> Map<String, Value> {
    pairs
        .iter()
        .map(|(name, value)| ((*name).to_owned(), value.clone()))
        .collect()
}

/// The text of a style model's summary.
pub(crate) fn describe_style(model: &Model) -> String {
    format!("{}(model_id={:?})", model.kind().name, model.id())
}
