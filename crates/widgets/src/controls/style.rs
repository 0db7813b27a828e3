//! Style models: the satellites ipywidgets 8 gives some controls (`ButtonStyleModel`,
//! `HTMLStyleModel`, `DescriptionStyleModel`, ...), next to the layout every DOM widget has.
//!
//! They are models of their own with comms, opened before the widget that references them
//! so the frontend can resolve `IPY_MODEL_<id>`; a control's kind names its style's kind.

use crate::attribute::{Attribute, Field, Initial};
use crate::model::{Kind, Model, Module};

/// The kind of a style model with the attributes `fields`: every one is viewed by the base
/// `StyleView`, shows nothing itself and describes itself by name and id.
pub(crate) const fn style_kind(
    name: &'static str,
    model_name: &'static str,
    fields: &'static [&'static [Field]],
) -> Kind {
    Kind {
        name,
        model_name,
        model_module: Module::Controls,
        view_name: "StyleView",
        view_module: Module::Base,
        fields,
        style: None,
        render_html: no_html,
        render_text: describe_style,
    }
}

fn no_html(_: &Model) -> String {
    String::new()
}

/// The style of controls that only have a description (`Select`, `RadioButtons`).
pub(crate) static DESCRIPTION_STYLE: Kind = style_kind(
    "DescriptionStyle",
    "DescriptionStyleModel",
    &[&[Field(Attribute::DescriptionWidth, Initial::Text(""))]],
);

/// The attributes `HTMLStyleModel` and `TextStyleModel` share.
pub(crate) const TEXT_STYLE_FIELDS: &[Field] = &[
    Field(Attribute::Background, Initial::Null),
    Field(Attribute::DescriptionWidth, Initial::Text("")),
    Field(Attribute::FontSize, Initial::Null),
    Field(Attribute::TextColor, Initial::Null),
];

/// The text of a style model's summary.
pub(crate) fn describe_style(model: &Model) -> String {
    format!("{}(model_id={:?})", model.kind().name, model.id())
}
