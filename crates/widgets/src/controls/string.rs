//! What the string controls (`HTML`, `Label`, `Text`) have in common, as ipywidgets' `_String`
//! base class gives it to them.

use crate::attribute::{Attribute, Field, Initial};

/// What ipywidgets sends as the placeholder of a string control without one: a zero-width space.
pub(crate) const NO_PLACEHOLDER: &str = "\u{200b}";

/// The attributes every string control has (its constructor sets the `value`).
pub(crate) const STRING_FIELDS: &[Field] = &[
    Field(Attribute::Description, Initial::Text("")),
    Field(Attribute::DescriptionAllowHtml, Initial::Bool(false)),
    Field(Attribute::Placeholder, Initial::Text(NO_PLACEHOLDER)),
    Field(Attribute::Value, Initial::Text("")),
];
