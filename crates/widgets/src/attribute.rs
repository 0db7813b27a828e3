//! The synced attributes of the widget models, each name written once.
//!
//! ipywidgets syncs a model as a JSON object keyed by attribute name, and a frontend ignores a
//! key its model does not have: a misspelt name would be a silent new key. Here every name is
//! a variant of [`Attribute`], so a misspelling does not compile. Each model's attributes and
//! the values ipywidgets 8 starts them with are one table of [`Field`]s in its
//! [`Kind`](crate::model::Kind): the model's opening state is built from it, and a change made
//! from Rust to an attribute the table does not list panics in debug builds (the tests run
//! them) rather than reach the frontend as a key its model does not have.

use serde_json::Value;

/// Declares [`Attribute`] with each variant's name on the wire.
macro_rules! attributes {
    ($($variant:ident => $name:literal,)*) => {
        /// A synced attribute of a widget model.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub(crate) enum Attribute {
            $($variant,)*
        }

        impl Attribute {
            /// Every attribute, for the tests.
            #[cfg(test)]
            const ALL: &[Attribute] = &[$(Attribute::$variant,)*];

            /// The attribute's name in the model's state, as ipywidgets 8 spells it.
            pub(crate) const fn name(self) -> &'static str {
                match self {
                    $(Attribute::$variant => $name,)*
                }
            }

            /// The attribute named `name`, if a model of this library has one by that name.
            pub(crate) fn from_name(name: &str) -> Option<Attribute> {
                match name {
                    $($name => Some(Attribute::$variant),)*
                    _ => None,
                }
            }
        }
    };
}

attributes! {
    // Every model: which model and view the frontend builds (`model::identity`).
    ModelModule => "_model_module",
    ModelModuleVersion => "_model_module_version",
    ModelName => "_model_name",
    ViewCount => "_view_count",
    ViewModule => "_view_module",
    ViewModuleVersion => "_view_module_version",
    ViewName => "_view_name",
    // Every DOM widget (`widget::DOM_FIELDS`).
    DomClasses => "_dom_classes",
    Layout => "layout",
    Style => "style",
    Tabbable => "tabbable",
    Tooltip => "tooltip",
    // The controls.
    BoxStyle => "box_style",
    ButtonStyle => "button_style",
    Children => "children",
    ContinuousUpdate => "continuous_update",
    Description => "description",
    DescriptionAllowHtml => "description_allow_html",
    Disabled => "disabled",
    Icon => "icon",
    Index => "index",
    MsgId => "msg_id",
    OptionsLabels => "_options_labels",
    Orientation => "orientation",
    Outputs => "outputs",
    Placeholder => "placeholder",
    Rows => "rows",
    Value => "value",
    // The style models.
    Background => "background",
    ButtonColor => "button_color",
    DescriptionWidth => "description_width",
    FontFamily => "font_family",
    FontSize => "font_size",
    FontStyle => "font_style",
    FontVariant => "font_variant",
    FontWeight => "font_weight",
    TextColor => "text_color",
    TextDecoration => "text_decoration",
    // The layout model.
    AlignContent => "align_content",
    AlignItems => "align_items",
    AlignSelf => "align_self",
    BorderBottom => "border_bottom",
    BorderLeft => "border_left",
    BorderRight => "border_right",
    BorderTop => "border_top",
    Bottom => "bottom",
    Display => "display",
    Flex => "flex",
    FlexFlow => "flex_flow",
    GridArea => "grid_area",
    GridAutoColumns => "grid_auto_columns",
    GridAutoFlow => "grid_auto_flow",
    GridAutoRows => "grid_auto_rows",
    GridColumn => "grid_column",
    GridGap => "grid_gap",
    GridRow => "grid_row",
    GridTemplateAreas => "grid_template_areas",
    GridTemplateColumns => "grid_template_columns",
    GridTemplateRows => "grid_template_rows",
    Height => "height",
    JustifyContent => "justify_content",
    JustifyItems => "justify_items",
    Left => "left",
    Margin => "margin",
    MaxHeight => "max_height",
    MaxWidth => "max_width",
    MinHeight => "min_height",
    MinWidth => "min_width",
    ObjectFit => "object_fit",
    ObjectPosition => "object_position",
    Order => "order",
    Overflow => "overflow",
    Padding => "padding",
    Right => "right",
    Top => "top",
    Visibility => "visibility",
    Width => "width",
}

/// The value an attribute starts with, as ipywidgets 8 sends it (constructors replace some,
/// such as a button's description).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Initial {
    Null,
    Bool(bool),
    Text(&'static str),
    Number(u32),
    EmptyList,
}

impl Initial {
    pub(crate) fn value(self) -> Value {
        match self {
            Initial::Null => Value::Null,
            Initial::Bool(flag) => Value::Bool(flag),
            Initial::Text(text) => Value::String(text.to_owned()),
            Initial::Number(number) => Value::from(number),
            Initial::EmptyList => Value::Array(Vec::new()),
        }
    }
}

/// One attribute of a model's table and its initial value.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Field(pub(crate) Attribute, pub(crate) Initial);

/// Attributes whose changes a frontend `update` brought, by the names it used; names no
/// attribute has are left out (the model ignored them).
pub(crate) fn changed(names: &serde_json::Map<String, Value>) -> Vec<Attribute> {
    names
        .keys()
        .filter_map(|name| Attribute::from_name(name))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_is_one_attribute_and_reads_back_as_it() {
        for &attribute in Attribute::ALL {
            assert_eq!(Attribute::from_name(attribute.name()), Some(attribute));
        }
        assert_eq!(Attribute::from_name("widht"), None);
    }
}
