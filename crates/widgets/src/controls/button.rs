//! `Button`: a clickable button whose click runs a Rust closure.

use super::style::{self, StyleSpec};
use crate::model::{escape_html, Kind, Model, Module};
use crate::widget::{create_dom_widget, widget_handle};
use serde_json::{json, Map, Value};
use std::sync::Arc;

static BUTTON: Kind = Kind {
    name: "Button",
    model_name: "ButtonModel",
    model_module: Module::Controls,
    view_name: "ButtonView",
    view_module: Module::Controls,
    render_html: |model| {
        format!(
            "<button disabled>{}</button>",
            escape_html(&model.get_str("description"))
        )
    },
    render_text: |model| format!("Button(description={:?})", model.get_str("description")),
};

static BUTTON_STYLE: StyleSpec = StyleSpec {
    kind: &style::style_kind("ButtonStyle", "ButtonStyleModel"),
    defaults: || {
        style::attributes(&[
            ("button_color", Value::Null),
            ("font_family", Value::Null),
            ("font_size", Value::Null),
            ("font_style", Value::Null),
            ("font_variant", Value::Null),
            ("font_weight", Value::Null),
            ("text_color", Value::Null),
            ("text_decoration", Value::Null),
        ])
    },
};

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
        let mut attributes: Map<String, Value> = Map::new();
        attributes.insert("button_style".into(), json!(""));
        attributes.insert("description".into(), json!(description.into()));
        attributes.insert("disabled".into(), json!(false));
        attributes.insert("icon".into(), json!(""));
        Button {
            model: create_dom_widget(&BUTTON, Some(&BUTTON_STYLE), attributes),
        }
    }

    /// The label.
    pub fn description(&self) -> String {
        self.model.get_str("description")
    }

    /// Changes the label on every view.
    pub fn set_description(&self, description: impl Into<String>) {
        self.model.set("description", json!(description.into()));
    }

    /// The predefined look.
    pub fn button_style(&self) -> ButtonStyle {
        ButtonStyle::from_str(&self.model.get_str("button_style"))
    }

    /// Changes the predefined look.
    pub fn set_button_style(&self, style: ButtonStyle) {
        self.model.set("button_style", json!(style.as_str()));
    }

    /// True when clicks are ignored.
    pub fn is_disabled(&self) -> bool {
        self.model.get("disabled").as_bool().unwrap_or(false)
    }

    /// Enables or disables the button.
    pub fn set_disabled(&self, disabled: bool) {
        self.model.set("disabled", json!(disabled));
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
