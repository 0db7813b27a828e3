//! What the string controls (`HTML`, `Label`, `Text`) have in common, as ipywidgets' `_String`
//! base class gives it to them.

use serde_json::{json, Map, Value};

/// What ipywidgets sends as the placeholder of a string control without one: a zero-width space.
pub(crate) const NO_PLACEHOLDER: &str = "\u{200b}";

/// The attributes every string control starts with, holding `value`.
pub(crate) fn string_attributes(value: String) -> Map<String, Value> {
    let mut attributes = Map::new();
    attributes.insert("description".into(), json!(""));
    attributes.insert("description_allow_html".into(), json!(false));
    attributes.insert("placeholder".into(), json!(NO_PLACEHOLDER));
    attributes.insert("value".into(), json!(value));
    attributes
}
