//! The type-erased widget handle, and what all DOM controls share.

use crate::controls::layout;
use crate::controls::style::{self, StyleSpec};
use crate::display;
use crate::model::{Kind, Model, Satellites};
use crate::protocol;
use crate::Layout;
use serde_json::{Map, Value};
use std::sync::Arc;

/// A handle to any widget: what containers hold and what a cell can display.
///
/// Every control converts into one with `.widget()`; clones share the same model.
#[derive(Clone)]
pub struct Widget {
    pub(crate) model: Arc<Model>,
}

impl Widget {
    /// The model id the frontend knows this widget by.
    pub fn model_id(&self) -> &str {
        self.model.id()
    }

    /// The widget's CSS box.
    pub fn layout(&self) -> Layout {
        layout_of(&self.model)
    }

    /// Removes the widget from every view and forgets it, like the typed handles' `close`.
    pub fn close(&self) {
        self.model.close();
    }

    /// Shows the widget as the output of a cell (evcxr calls this for a cell's final value).
    pub fn evcxr_display(&self) {
        display::show(&self.model);
    }
}

/// The layout handle of a DOM widget.
pub(crate) fn layout_of(model: &Model) -> Layout {
    let layout = model
        .layout()
        .expect("every widget handle wraps a DOM widget, created with a layout");
    Layout {
        model: Arc::clone(layout),
    }
}

/// Creates a DOM widget as ipywidgets 8 does: first its own layout model and, if the control
/// has one, its style model, then the widget with `attributes` plus the DOM attributes
/// (CSS classes, references to layout and style, tab order, tooltip).
pub(crate) fn create_dom_widget(
    kind: &'static Kind,
    style_spec: Option<&StyleSpec>,
    attributes: Map<String, Value>,
) -> Arc<Model> {
    let layout = layout::new_layout();
    let style = style_spec.map(style::new_style);
    let mut state = Map::new();
    state.insert("_dom_classes".into(), Value::Array(Vec::new()));
    state.insert("layout".into(), protocol::model_reference(layout.id()));
    if let Some(style) = &style {
        state.insert("style".into(), protocol::model_reference(style.id()));
    }
    state.insert("tabbable".into(), Value::Null);
    state.insert("tooltip".into(), Value::Null);
    state.extend(attributes);
    let satellites = Satellites {
        layout: Some(layout),
        style,
    };
    Model::create_owning(kind, state, satellites)
}

/// Gives a control the methods every widget handle has: `widget()`, `model_id()`,
/// `layout()`, `set_tooltip()`, `close()`, `evcxr_display()` (inherent, so cells need no
/// trait import) and conversion to [`Widget`].
macro_rules! widget_handle {
    ($control:ident) => {
        impl $control {
            /// A type-erased handle, for containers.
            pub fn widget(&self) -> $crate::Widget {
                $crate::Widget {
                    model: ::std::sync::Arc::clone(&self.model),
                }
            }

            /// The model id the frontend knows this widget by.
            pub fn model_id(&self) -> &str {
                self.model.id()
            }

            /// Shows the widget as the output of a cell (evcxr calls this for a cell's value).
            pub fn evcxr_display(&self) {
                $crate::display::show(&self.model);
            }

            /// The widget's CSS box: size, margins, flex behaviour.
            pub fn layout(&self) -> $crate::Layout {
                $crate::widget::layout_of(&self.model)
            }

            /// Sets the text shown when the pointer rests on the widget.
            pub fn set_tooltip(&self, tooltip: &str) {
                self.model.set("tooltip", ::serde_json::json!(tooltip));
            }

            /// Removes the widget from every view and forgets it (its layout and style go
            /// with it; a box's children stay). Calling it again does nothing; later changes
            /// stay on the Rust side.
            pub fn close(&self) {
                self.model.close();
            }

            /// True once the widget was closed, from Rust or by the frontend.
            pub fn is_closed(&self) -> bool {
                self.model.is_closed()
            }
        }

        impl From<&$control> for $crate::Widget {
            fn from(control: &$control) -> $crate::Widget {
                control.widget()
            }
        }

        impl From<$control> for $crate::Widget {
            fn from(control: $control) -> $crate::Widget {
                control.widget()
            }
        }

        impl ::std::fmt::Debug for $control {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(&(self.model.kind().render_text)(&self.model))
            }
        }
    };
}

pub(crate) use widget_handle;
