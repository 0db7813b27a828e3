//! `RadioButtons`: a group of exclusive choices (ipywidgets' `RadioButtons`).

use super::selection::{self, selection_methods, SelectionError, SELECTION_FIELDS};
use super::style::DESCRIPTION_STYLE;
use crate::attribute::{Attribute, Field, Initial};
use crate::model::{escape_html, Kind, Model, Module};
use crate::widget::{create_dom_widget, widget_handle, DOM_FIELDS, STYLE_FIELD};
use serde_json::json;
use std::sync::Arc;

static RADIO_BUTTONS: Kind = Kind {
    name: "RadioButtons",
    model_name: "RadioButtonsModel",
    model_module: Module::Controls,
    view_name: "RadioButtonsView",
    view_module: Module::Controls,
    fields: &[
        DOM_FIELDS,
        STYLE_FIELD,
        SELECTION_FIELDS,
        &[Field(Attribute::Orientation, Initial::Text("vertical"))],
    ],
    style: Some(&DESCRIPTION_STYLE),
    render_html: render_radios,
    render_text: |model| selection::describe("RadioButtons", model),
};

/// Static radio buttons, one per line, the selected one checked.
fn render_radios(model: &Model) -> String {
    let selected = selection::index(model);
    let radios: String = selection::options(model)
        .iter()
        .enumerate()
        .map(|(position, label)| {
            let mark = if Some(position) == selected {
                " checked"
            } else {
                ""
            };
            format!(
                "<label style=\"display:block\"><input type=\"radio\" disabled{mark}> {}</label>",
                escape_html(label)
            )
        })
        .collect();
    format!(
        "{}<div style=\"display:inline-block\">{radios}</div>",
        selection::description_html(model)
    )
}

/// Radio buttons, one per option label. The first option starts selected, as in
/// ipywidgets; [`set_index(None)`](RadioButtons::set_index) clears the choice.
///
/// ```no_run
/// use flow_edge_widgets::RadioButtons;
/// let rating = RadioButtons::new(["1", "2", "3"]);
/// rating.set_description("Rating");
/// assert_eq!(rating.value().as_deref(), Some("1"));
/// ```
#[derive(Clone)]
pub struct RadioButtons {
    model: Arc<Model>,
}

widget_handle!(RadioButtons);
selection_methods!(RadioButtons);

impl RadioButtons {
    /// Radio buttons for `options` (labels, in order), stacked vertically.
    pub fn new(options: impl IntoIterator<Item = impl Into<String>>) -> RadioButtons {
        let initial = selection::initial(selection::collect_labels(options));
        RadioButtons {
            model: create_dom_widget(&RADIO_BUTTONS, initial),
        }
    }

    /// Lays the buttons out side by side instead of stacked.
    pub fn set_horizontal(&self, horizontal: bool) {
        let orientation = if horizontal { "horizontal" } else { "vertical" };
        self.model.set(Attribute::Orientation, json!(orientation));
    }
}
