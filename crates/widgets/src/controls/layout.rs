//! `Layout`: the CSS box of a widget (ipywidgets' `LayoutModel`).
//!
//! Every DOM widget owns one layout model, opened before the widget itself so the frontend
//! can resolve the widget's `layout: "IPY_MODEL_<id>"`. [`Layout`] is a handle to it: its
//! setters change one CSS property on every view of the widget.

use crate::model::{Kind, Model, Module};
use serde_json::{json, Map, Value};
use std::fmt;
use std::sync::Arc;

/// Every attribute of ipywidgets 8's `LayoutModel`; all default to null (browser default).
const LAYOUT_ATTRIBUTES: &[&str] = &[
    "align_content",
    "align_items",
    "align_self",
    "border_bottom",
    "border_left",
    "border_right",
    "border_top",
    "bottom",
    "display",
    "flex",
    "flex_flow",
    "grid_area",
    "grid_auto_columns",
    "grid_auto_flow",
    "grid_auto_rows",
    "grid_column",
    "grid_gap",
    "grid_row",
    "grid_template_areas",
    "grid_template_columns",
    "grid_template_rows",
    "height",
    "justify_content",
    "justify_items",
    "left",
    "margin",
    "max_height",
    "max_width",
    "min_height",
    "min_width",
    "object_fit",
    "object_position",
    "order",
    "overflow",
    "padding",
    "right",
    "top",
    "visibility",
    "width",
];

/// The four sides ipywidgets' `border` shorthand sets.
const BORDER_SIDES: [&str; 4] = ["border_top", "border_right", "border_bottom", "border_left"];

static LAYOUT: Kind = Kind {
    name: "Layout",
    model_name: "LayoutModel",
    model_module: Module::Base,
    view_name: "LayoutView",
    view_module: Module::Base,
    render_html: |_| String::new(),
    render_text: describe_layout,
};

/// Creates a widget's `LayoutModel` with every attribute unset.
pub(crate) fn new_layout() -> Arc<Model> {
    let attributes = LAYOUT_ATTRIBUTES
        .iter()
        .map(|name| ((*name).to_owned(), Value::Null))
        .collect();
    Model::create(&LAYOUT, attributes)
}

/// The properties that arrange a flex container's items rather than place the container.
const CONTAINER_ATTRIBUTES: &[&str] = &[
    "align_content",
    "align_items",
    "flex_flow",
    "justify_content",
];

/// The CSS properties set on a layout, as an inline `style` attribute for static views.
pub(crate) fn inline_css(layout: &Model) -> String {
    css_of(layout, LAYOUT_ATTRIBUTES)
}

/// The set properties that arrange a box's children, for the static view's flex container.
pub(crate) fn container_css(layout: &Model) -> String {
    css_of(layout, CONTAINER_ATTRIBUTES)
}

fn css_of(layout: &Model, attributes: &[&str]) -> String {
    let state = layout.state();
    attributes
        .iter()
        .filter_map(|name| {
            let value = state.get(*name)?.as_str()?;
            let property = match *name {
                "flex_flow" => "flex-flow".to_owned(),
                other => other.replace('_', "-"),
            };
            Some(format!("{property}:{value};"))
        })
        .collect()
}

fn describe_layout(model: &Model) -> String {
    let set: Vec<String> = model
        .state()
        .into_iter()
        .filter(|(name, value)| LAYOUT_ATTRIBUTES.contains(&name.as_str()) && !value.is_null())
        .map(|(name, value)| format!("{name}={value}"))
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
    ($($setter:ident => $attribute:literal),* $(,)?) => {
        $(
            #[doc = concat!("Sets the CSS `", $attribute, "` of the widget (e.g. as in ipywidgets' `Layout(", $attribute, "=...)`).")]
            pub fn $setter(&self, value: &str) {
                self.model.set($attribute, json!(value));
            }
        )*
    };
}

impl Layout {
    css_setters! {
        set_width => "width",
        set_height => "height",
        set_margin => "margin",
        set_overflow => "overflow",
        set_flex => "flex",
        set_padding => "padding",
        set_align_items => "align_items",
        set_justify_content => "justify_content",
        set_display => "display",
        set_flex_flow => "flex_flow",
        set_min_width => "min_width",
        set_max_width => "max_width",
        set_min_height => "min_height",
        set_max_height => "max_height",
        set_visibility => "visibility",
    }

    /// Sets the same CSS border on all four sides (ipywidgets' `border` shorthand), in one
    /// update.
    pub fn set_border(&self, value: &str) {
        let sides: Map<String, Value> = BORDER_SIDES
            .iter()
            .map(|side| ((*side).to_owned(), json!(value)))
            .collect();
        self.model.set_many(sides);
    }

    /// The value of one layout attribute (`"width"`, `"border_top"`, ...), if set.
    pub fn get(&self, attribute: &str) -> Option<String> {
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
