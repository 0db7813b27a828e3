//! `Layout`: the CSS box of a widget (ipywidgets' `LayoutModel`).
//!
//! Every DOM widget owns one layout model, opened before the widget itself so the frontend
//! can resolve the widget's `layout: "IPY_MODEL_<id>"`. [`Layout`] is a handle to it: its
//! setters change one CSS property on every view of the widget.

use crate::attribute::{Attribute, Field, Initial};
use crate::model::{Kind, Model, Module};
use serde_json::json;
use std::fmt;
use std::sync::Arc;

/// Every attribute of ipywidgets 8's `LayoutModel`; all start null (the browser's default).
const LAYOUT_FIELDS: &[Field] = &[
    Field(Attribute::AlignContent, Initial::Null),
    Field(Attribute::AlignItems, Initial::Null),
    Field(Attribute::AlignSelf, Initial::Null),
    Field(Attribute::BorderBottom, Initial::Null),
    Field(Attribute::BorderLeft, Initial::Null),
    Field(Attribute::BorderRight, Initial::Null),
    Field(Attribute::BorderTop, Initial::Null),
    Field(Attribute::Bottom, Initial::Null),
    Field(Attribute::Display, Initial::Null),
    Field(Attribute::Flex, Initial::Null),
    Field(Attribute::FlexFlow, Initial::Null),
    Field(Attribute::GridArea, Initial::Null),
    Field(Attribute::GridAutoColumns, Initial::Null),
    Field(Attribute::GridAutoFlow, Initial::Null),
    Field(Attribute::GridAutoRows, Initial::Null),
    Field(Attribute::GridColumn, Initial::Null),
    Field(Attribute::GridGap, Initial::Null),
    Field(Attribute::GridRow, Initial::Null),
    Field(Attribute::GridTemplateAreas, Initial::Null),
    Field(Attribute::GridTemplateColumns, Initial::Null),
    Field(Attribute::GridTemplateRows, Initial::Null),
    Field(Attribute::Height, Initial::Null),
    Field(Attribute::JustifyContent, Initial::Null),
    Field(Attribute::JustifyItems, Initial::Null),
    Field(Attribute::Left, Initial::Null),
    Field(Attribute::Margin, Initial::Null),
    Field(Attribute::MaxHeight, Initial::Null),
    Field(Attribute::MaxWidth, Initial::Null),
    Field(Attribute::MinHeight, Initial::Null),
    Field(Attribute::MinWidth, Initial::Null),
    Field(Attribute::ObjectFit, Initial::Null),
    Field(Attribute::ObjectPosition, Initial::Null),
    Field(Attribute::Order, Initial::Null),
    Field(Attribute::Overflow, Initial::Null),
    Field(Attribute::Padding, Initial::Null),
    Field(Attribute::Right, Initial::Null),
    Field(Attribute::Top, Initial::Null),
    Field(Attribute::Visibility, Initial::Null),
    Field(Attribute::Width, Initial::Null),
];

/// The four sides ipywidgets' `border` shorthand sets.
const BORDER_SIDES: [Attribute; 4] = [
    Attribute::BorderTop,
    Attribute::BorderRight,
    Attribute::BorderBottom,
    Attribute::BorderLeft,
];

static LAYOUT: Kind = Kind {
    name: "Layout",
    model_name: "LayoutModel",
    model_module: Module::Base,
    view_name: "LayoutView",
    view_module: Module::Base,
    fields: &[LAYOUT_FIELDS],
    style: None,
    render_html: |_| String::new(),
    render_text: describe_layout,
};

/// Creates a widget's `LayoutModel` with every attribute unset.
pub(crate) fn new_layout() -> Arc<Model> {
    Model::create(&LAYOUT, Vec::new())
}

/// The properties that arrange a flex container's items rather than place the container.
const CONTAINER_ATTRIBUTES: &[Attribute] = &[
    Attribute::AlignContent,
    Attribute::AlignItems,
    Attribute::FlexFlow,
    Attribute::JustifyContent,
];

/// The CSS properties set on a layout, as an inline `style` attribute for static views.
pub(crate) fn inline_css(layout: &Model) -> String {
    css_of(
        layout,
        LAYOUT_FIELDS.iter().map(|Field(attribute, _)| *attribute),
    )
}

/// The set properties that arrange a box's children, for the static view's flex container.
pub(crate) fn container_css(layout: &Model) -> String {
    css_of(layout, CONTAINER_ATTRIBUTES.iter().copied())
}

/// `property:value;` for each of `attributes` that is set (the CSS property is the
/// attribute's name with dashes).
fn css_of(layout: &Model, attributes: impl Iterator<Item = Attribute>) -> String {
    attributes
        .filter_map(|attribute| {
            let value = layout.get(attribute);
            let value = value.as_str()?;
            Some(format!("{}:{value};", attribute.name().replace('_', "-")))
        })
        .collect()
}

fn describe_layout(model: &Model) -> String {
    let set: Vec<String> = LAYOUT_FIELDS
        .iter()
        .filter_map(|Field(attribute, _)| {
            let value = model.get(*attribute);
            (!value.is_null()).then(|| format!("{}={value}", attribute.name()))
        })
        .collect();
    format!("Layout({})", set.join(", "))
}

/// The CSS box of one widget: size, spacing, flex behaviour, border.
///
/// Get it with `.layout()` on any widget; values are CSS strings, as in ipywidgets.
///
/// ```no_run
/// use flow_edge_widgets::Select;
/// let hosts = Select::new(["10.0.0.1", "10.0.0.2"]);
/// hosts.layout().set_width("180px");
/// hosts.layout().set_height("200px");
/// ```
#[derive(Clone)]
pub struct Layout {
    pub(crate) model: Arc<Model>,
}

macro_rules! css_setters {
    ($($(#[$doc:meta])* $setter:ident => $attribute:ident,)*) => {
        $(
            $(#[$doc])*
            pub fn $setter(&self, value: &str) {
                self.model.set(Attribute::$attribute, json!(value));
            }
        )*
    };
}

impl Layout {
    css_setters! {
        /// Sets the CSS `width` of the widget (as ipywidgets' `Layout(width=...)`).
        set_width => Width,
        /// Sets the CSS `height`.
        set_height => Height,
        /// Sets the CSS `margin`.
        set_margin => Margin,
        /// Sets the CSS `overflow`.
        set_overflow => Overflow,
        /// Sets the CSS `flex`.
        set_flex => Flex,
        /// Sets the CSS `padding`.
        set_padding => Padding,
        /// Sets the CSS `align-items` (ipywidgets' `align_items`).
        set_align_items => AlignItems,
        /// Sets the CSS `justify-content` (ipywidgets' `justify_content`).
        set_justify_content => JustifyContent,
        /// Sets the CSS `display`.
        set_display => Display,
        /// Sets the CSS `flex-flow` (ipywidgets' `flex_flow`).
        set_flex_flow => FlexFlow,
        /// Sets the CSS `min-width` (ipywidgets' `min_width`).
        set_min_width => MinWidth,
        /// Sets the CSS `max-width` (ipywidgets' `max_width`).
        set_max_width => MaxWidth,
        /// Sets the CSS `min-height` (ipywidgets' `min_height`).
        set_min_height => MinHeight,
        /// Sets the CSS `max-height` (ipywidgets' `max_height`).
        set_max_height => MaxHeight,
        /// Sets the CSS `visibility`.
        set_visibility => Visibility,
    }

    /// Sets the same CSS border on all four sides (ipywidgets' `border` shorthand), in one
    /// update.
    pub fn set_border(&self, value: &str) {
        let sides = BORDER_SIDES.map(|side| (side, json!(value)));
        self.model.set_many(sides.to_vec());
    }

    /// The value of one layout attribute (`"width"`, `"border_top"`, ...), if set.
    pub fn get(&self, attribute: &str) -> Option<String> {
        let attribute = Attribute::from_name(attribute)?;
        self.model.get(attribute).as_str().map(str::to_owned)
    }

    /// The model id the frontend knows this layout by.
    pub fn model_id(&self) -> &str {
        self.model.id()
    }
}

impl fmt::Debug for Layout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&describe_layout(&self.model))
    }
}
