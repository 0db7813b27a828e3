//! The type-erased widget handle, and what all DOM controls share.

use crate::attribute::{Attribute, Field, Initial};
use crate::controls::layout;
use crate::display;
use crate::model::{Changes, Kind, Model, Satellites};
use crate::protocol;
use crate::Layout;
use std::sync::Arc;

/// The attributes of every DOM widget: CSS classes, its layout (a reference, set when the
/// widget is created), tab order, tooltip.
pub(crate) const DOM_FIELDS: &[Field] = &[
    Field(Attribute::DomClasses, Initial::EmptyList),
    Field(Attribute::Layout, Initial::Null),
    Field(Attribute::Tabbable, Initial::Null),
    Field(Attribute::Tooltip, Initial::Null),
];

/// The reference to the style model of a widget whose kind has one.
pub(crate) const STYLE_FIELD: &[Field] = &[Field(Attribute::Style, Initial::Null)];

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

/// Creates a DOM widget as ipywidgets 8 does: first its own layout model and, if its kind
/// has one, its style model, then the widget, referring to them, with its attributes'
/// initial values replaced by `initial`.
pub(crate) fn create_dom_widget(kind: &'static Kind, mut initial: Changes) -> Arc<Model> {
    let layout = layout::new_layout();
    initial.push((Attribute::Layout, protocol::model_reference(layout.id())));
    let style = kind.style.map(|style| Model::create(style, Vec::new()));
    if let Some(style) = &style {
        initial.push((Attribute::Style, protocol::model_reference(style.id())));
    }
    let satellites = Satellites {
        layout: Some(layout),
        style,
    };
    Model::create_owning(kind, initial, satellites)
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
                self.model.set(
                    $crate::attribute::Attribute::Tooltip,
                    ::serde_json::json!(tooltip),
                );
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
