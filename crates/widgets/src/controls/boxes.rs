//! `HBox`, `VBox` and `WidgetBox` (ipywidgets' `Box`): containers of other widgets.

use super::layout;
use crate::attribute::{Attribute, Field, Initial};
use crate::display;
use crate::model::{Kind, Model, Module};
use crate::protocol::{self, MODEL_REFERENCE_PREFIX};
use crate::widget::{create_dom_widget, widget_handle, Widget, DOM_FIELDS};
use serde_json::Value;
use std::sync::Arc;

/// The attributes of every box: a look and the children, in order.
const BOX_FIELDS: &[&[Field]] = &[
    DOM_FIELDS,
    &[
        Field(Attribute::BoxStyle, Initial::Text("")),
        Field(Attribute::Children, Initial::EmptyList),
    ],
];

static HBOX: Kind = Kind {
    name: "HBox",
    model_name: "HBoxModel",
    model_module: Module::Controls,
    view_name: "HBoxView",
    view_module: Module::Controls,
    fields: BOX_FIELDS,
    style: None,
    render_html: |model| render_children(model, "row"),
    render_text: |model| describe_box("HBox", model),
};

static VBOX: Kind = Kind {
    name: "VBox",
    model_name: "VBoxModel",
    model_module: Module::Controls,
    view_name: "VBoxView",
    view_module: Module::Controls,
    fields: BOX_FIELDS,
    style: None,
    render_html: |model| render_children(model, "column"),
    render_text: |model| describe_box("VBox", model),
};

/// ipywidgets' plain `Box`: a flex container whose direction the layout decides (a row
/// unless `flex_flow` says otherwise).
static BOX: Kind = Kind {
    name: "Box",
    model_name: "BoxModel",
    model_module: Module::Controls,
    view_name: "BoxView",
    view_module: Module::Controls,
    fields: BOX_FIELDS,
    style: None,
    render_html: |model| render_children(model, "row"),
    render_text: |model| describe_box("Box", model),
};

fn new_box(kind: &'static Kind, children: impl IntoIterator<Item = Widget>) -> Arc<Model> {
    create_dom_widget(kind, vec![(Attribute::Children, references(children))])
}

fn references(children: impl IntoIterator<Item = Widget>) -> Value {
    Value::Array(
        children
            .into_iter()
            .map(|child| protocol::model_reference(child.model_id()))
            .collect(),
    )
}

/// The child models of a box, in order, as far as this process knows them (closed children
/// are left out).
fn child_models(model: &Model) -> Vec<Arc<Model>> {
    let children = model.get(Attribute::Children);
    children
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .filter_map(|reference| reference.strip_prefix(MODEL_REFERENCE_PREFIX))
        .filter_map(|id| model.session().model(id))
        .collect()
}

/// Static HTML of a box: a flex container of its children, each in a wrapper carrying its
/// own layout, so a static panel keeps the arrangement of the live one. The box's own size
/// and margins are on its wrapper; here only what arranges the children.
fn render_children(model: &Model, direction: &str) -> String {
    let inner: String = child_models(model)
        .iter()
        .map(|child| display::static_html(child))
        .collect();
    let arrangement = model
        .layout()
        .map(|l| layout::container_css(l))
        .unwrap_or_default();
    format!(
        "<div style=\"display:flex;flex-direction:{direction};gap:4px;{arrangement}\">{inner}</div>"
    )
}

fn describe_box(name: &str, model: &Model) -> String {
    let children: Vec<String> = child_models(model)
        .iter()
        .map(|child| (child.kind().render_text)(child))
        .collect();
    format!("{name}(children=[{}])", children.join(", "))
}

macro_rules! layout_box {
    ($name:ident, $kind:ident, $summary:literal, $what:literal) => {
        #[doc = $summary]
        ///
        /// Build it from widget handles: `VBox::new([button.widget(), html.widget()])`.
        /// Closing a box closes the box only; its children stay open, as in ipywidgets.
        #[derive(Clone)]
        pub struct $name {
            model: Arc<Model>,
        }

        widget_handle!($name);

        impl $name {
            #[doc = concat!("A ", $what, " of `children`, in order.")]
            pub fn new(children: impl IntoIterator<Item = Widget>) -> $name {
                $name {
                    model: new_box(&$kind, children),
                }
            }

            /// Replaces the children on every view.
            pub fn set_children(&self, children: impl IntoIterator<Item = Widget>) {
                self.model.set(Attribute::Children, references(children));
            }

            /// The model ids of the children, in order.
            pub fn child_ids(&self) -> Vec<String> {
                child_models(&self.model)
                    .iter()
                    .map(|child| child.id().to_owned())
                    .collect()
            }
        }
    };
}

layout_box!(HBox, HBOX, "Lays out its children in a row.", "row");
layout_box!(VBox, VBOX, "Lays out its children in a column.", "column");
layout_box!(
    WidgetBox,
    BOX,
    "ipywidgets' plain `Box` (renamed so it does not shadow `std::boxed::Box`): a flex \
     container whose direction and wrapping come from its layout (`set_flex_flow`).",
    "flex container"
);
