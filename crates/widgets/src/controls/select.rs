//! `Select`: a listbox of labels, one of which may be selected (ipywidgets' `Select`).

use super::selection::{self, selection_methods, SelectionError, SELECTION_FIELDS};
use super::style::DESCRIPTION_STYLE;
use crate::attribute::{Attribute, Field, Initial};
use crate::model::{escape_html, Kind, Model, Module};
use crate::widget::{create_dom_widget, widget_handle, DOM_FIELDS, STYLE_FIELD};
use serde_json::json;
use std::sync::Arc;

/// How many rows ipywidgets' `Select` shows by default.
const DEFAULT_ROWS: u32 = 5;

static SELECT: Kind = Kind {
    name: "Select",
    model_name: "SelectModel",
    model_module: Module::Controls,
    view_name: "SelectView",
    view_module: Module::Controls,
    fields: &[
        DOM_FIELDS,
        STYLE_FIELD,
        SELECTION_FIELDS,
        &[Field(Attribute::Rows, Initial::Number(DEFAULT_ROWS))],
    ],
    style: Some(&DESCRIPTION_STYLE),
    render_html: render_listbox,
    render_text: |model| selection::describe("Select", model),
};

/// A static listbox: every option visible, the selected one marked.
fn render_listbox(model: &Model) -> String {
    let selected = selection::index(model);
    let options: String = selection::options(model)
        .iter()
        .enumerate()
        .map(|(position, label)| {
            let mark = if Some(position) == selected {
                " selected"
            } else {
                ""
            };
            format!("<option{mark}>{}</option>", escape_html(label))
        })
        .collect();
    let rows = model
        .get(Attribute::Rows)
        .as_u64()
        .unwrap_or(u64::from(DEFAULT_ROWS));
    format!(
        "{}<select size=\"{rows}\" disabled>{options}</select>",
        selection::description_html(model)
    )
}

/// A listbox. The first option starts selected, as in ipywidgets; a selection made in the
/// browser is what [`value`](Select::value) returns, in callbacks and in later cells.
///
/// ```no_run
/// use flow_edge_widgets::Select;
/// let source = Select::new(["- Select -", "10.0.0.1", "10.0.0.2"]);
/// source.set_description("Source IP");
/// source.on_change(|s| flow_edge_widgets::print_to_frontend(&format!("{:?}\n", s.value())));
/// ```
#[derive(Clone)]
pub struct Select {
    model: Arc<Model>,
}

widget_handle!(Select);
selection_methods!(Select);

impl Select {
    /// A listbox of `options` (labels, in order) showing five rows.
    pub fn new(options: impl IntoIterator<Item = impl Into<String>>) -> Select {
        let initial = selection::initial(selection::collect_labels(options));
        Select {
            model: create_dom_widget(&SELECT, initial),
        }
    }

    /// How many options are visible without scrolling.
    pub fn rows(&self) -> u32 {
        self.model
            .get(Attribute::Rows)
            .as_u64()
            .and_then(|rows| u32::try_from(rows).ok())
            .unwrap_or(DEFAULT_ROWS)
    }

    /// Changes how many options are visible without scrolling.
    pub fn set_rows(&self, rows: u32) {
        self.model.set(Attribute::Rows, json!(rows));
    }
}
