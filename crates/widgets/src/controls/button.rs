//! `Button`: a clickable button whose click runs a Rust closure.

use super::style::style_kind;
use crate::attribute::{Attribute, Field, Initial};
use crate::model::{escape_html, Kind, Model, Module};
use crate::widget::{create_dom_widget, widget_handle, DOM_FIELDS, STYLE_FIELD};
use serde_json::json;
use std::sync::Arc;

static BUTTON: Kind = Kind {
    name: "Button",
    model_name: "ButtonModel",
    model_module: Module::Controls,
    view_name: "ButtonView",
    view_module: Module::Controls,
    fields: &[
        DOM_FIELDS,
        STYLE_FIELD,
        &[
            Field(Attribute::ButtonStyle, Initial::Text("")),
            Field(Attribute::Description, Initial::Text("")),
            Field(Attribute::Disabled, Initial::Bool(false)),
            Field(Attribute::Icon, Initial::Text("")),
        ],
    ],
    style: Some(&BUTTON_STYLE),
    render_html: |model| {
        format!(
            "<button disabled>{}</button>",
            escape_html(&model.get_str(Attribute::Description))
        )
    },
    render_text: |model| {
        format!(
            "Button(description={:?})",
            model.get_str(Attribute::Description)
        )
    },
};

static BUTTON_STYLE: Kind = style_kind(
    "ButtonStyle",
    "ButtonStyleModel",
    &[&[
        Field(Attribute::ButtonColor, Initial::Null),
        Field(Attribute::FontFamily, Initial::Null),
        Field(Attribute::FontSize, Initial::Null),
        Field(Attribute::FontStyle, Initial::Null),
        Field(Attribute::FontVariant, Initial::Null),
        Field(Attribute::FontWeight, Initial::Null),
        Field(Attribute::TextColor, Initial::Null),
        Field(Attribute::TextDecoration, Initial::Null),
    ]],
);

/// The predefined looks of a button (ipywidgets' `button_style`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ButtonStyle {
    /// The theme's plain button.
    #[default]
    Plain,
    Primary,
    Success,
    Info,
    Warning,
    Danger,
}

impl ButtonStyle {
    fn as_str(self) -> &'static str {
        match self {
            ButtonStyle::Plain => "",
            ButtonStyle::Primary => "primary",
            ButtonStyle::Success => "success",
            ButtonStyle::Info => "info",
            ButtonStyle::Warning => "warning",
            ButtonStyle::Danger => "danger",
        }
    }

    fn from_str(text: &str) -> ButtonStyle {
        match text {
            "primary" => ButtonStyle::Primary,
            "success" => ButtonStyle::Success,
            "info" => ButtonStyle::Info,
            "warning" => ButtonStyle::Warning,
            "danger" => ButtonStyle::Danger,
            _ => ButtonStyle::Plain,
        }
    }
}

/// A button. Clones are handles to the same button, so a click closure can capture them.
///
/// ```no_run
/// use flow_edge_widgets::Button;
/// let button = Button::new("Save");
/// button.on_click(|b| b.set_description("Saved"));
/// ```
#[derive(Clone)]
pub struct Button {
    model: Arc<Model>,
}

widget_handle!(Button);

impl Button {
    /// A plain button labelled `description`.
    pub fn new(description: impl Into<String>) -> Button {
        let initial = vec![(Attribute::Description, json!(description.into()))];
        Button {
            model: create_dom_widget(&BUTTON, initial),
        }
    }

    /// The label.
    pub fn description(&self) -> String {
        self.model.get_str(Attribute::Description)
    }

    /// Changes the label on every view.
    pub fn set_description(&self, description: impl Into<String>) {
        self.model
            .set(Attribute::Description, json!(description.into()));
    }

    /// The predefined look.
    pub fn button_style(&self) -> ButtonStyle {
        ButtonStyle::from_str(&self.model.get_str(Attribute::ButtonStyle))
    }

    /// Changes the predefined look.
    pub fn set_button_style(&self, style: ButtonStyle) {
        self.model
            .set(Attribute::ButtonStyle, json!(style.as_str()));
    }

    /// True when clicks are ignored.
    pub fn is_disabled(&self) -> bool {
        self.model
            .get(Attribute::Disabled)
            .as_bool()
            .unwrap_or(false)
    }

    /// Enables or disables the button.
    pub fn set_disabled(&self, disabled: bool) {
        self.model.set(Attribute::Disabled, json!(disabled));
    }

    /// Runs `callback` on every click, after the cell that is running (if any) finished.
    ///
    /// The callback runs on a library thread: print with
    /// [`print_to_frontend`](crate::print_to_frontend), not `println!`. A panic is caught and
    /// shown on the frontend.
    pub fn on_click(&self, callback: impl Fn(&Button) + Send + Sync + 'static) {
        self.model.on_event("click", move |model| {
            callback(&Button {
                model: Arc::clone(model),
            })
        });
    }
}
