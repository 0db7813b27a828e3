//! `Output`: an area that Rust code (callbacks above all) writes text and HTML into.
//!
//! ipywidgets' `Output` captures the outputs of a running cell in the browser; callbacks
//! here run between cells, so this version keeps the list of outputs itself (the model's
//! `outputs` attribute, in nbformat's output shape) and syncs it: JupyterLab's OutputModel
//! renders whatever list the kernel sets, as it does for ipywidgets' `append_stdout`.

use crate::attribute::{Attribute, Field, Initial};
use crate::model::{escape_html, Kind, Model, Module};
use crate::widget::{create_dom_widget, widget_handle, DOM_FIELDS};
use serde_json::{json, Value};
use std::sync::Arc;

static OUTPUT: Kind = Kind {
    name: "Output",
    model_name: "OutputModel",
    model_module: Module::Output,
    view_name: "OutputView",
    view_module: Module::Output,
    fields: &[
        DOM_FIELDS,
        &[
            Field(Attribute::MsgId, Initial::Text("")),
            Field(Attribute::Outputs, Initial::EmptyList),
        ],
    ],
    style: None,
    render_html: render_outputs,
    render_text: |model| format!("Output(text={:?})", plain_text(model)),
};

/// Static HTML of the outputs: streams as preformatted text, HTML as is.
fn render_outputs(model: &Model) -> String {
    outputs(model)
        .iter()
        .map(|output| match output["output_type"].as_str() {
            Some("stream") => {
                let colour = if output["name"] == "stderr" {
                    "background:#fdd;"
                } else {
                    ""
                };
                format!(
                    "<pre style=\"margin:0;{colour}\">{}</pre>",
                    escape_html(output["text"].as_str().unwrap_or_default())
                )
            }
            _ => output["data"]["text/html"]
                .as_str()
                .map(str::to_owned)
                .unwrap_or_else(|| {
                    escape_html(output["data"]["text/plain"].as_str().unwrap_or_default())
                }),
        })
        .collect()
}

fn outputs(model: &Model) -> Vec<Value> {
    match model.get(Attribute::Outputs) {
        Value::Array(outputs) => outputs,
        _ => Vec::new(),
    }
}

/// The text a reader sees: stream text and the plain-text form of displayed HTML.
fn plain_text(model: &Model) -> String {
    outputs(model)
        .iter()
        .filter_map(|output| match output["output_type"].as_str() {
            Some("stream") => output["text"].as_str(),
            _ => output["data"]["text/plain"].as_str(),
        })
        .collect()
}

/// HTML without its tags and with the common entities decoded, for `text/plain`.
fn strip_tags(html: &str) -> String {
    let mut text = String::with_capacity(html.len());
    let mut in_tag = false;
    for character in html.chars() {
        match (in_tag, character) {
            (false, '<') => in_tag = true,
            (true, '>') => in_tag = false,
            (false, other) => text.push(other),
            (true, _) => {}
        }
    }
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// An output area: callbacks append text or HTML, the browser shows it below the widgets.
///
/// ```no_run
/// use flow_edge_widgets::{Button, Output, VBox};
/// let log = Output::new();
/// let button = Button::new("Run");
/// let shown = log.clone();
/// button.on_click(move |_| shown.append_stdout("clicked\n"));
/// VBox::new([button.widget(), log.widget()])
/// # ;
/// ```
#[derive(Clone)]
pub struct Output {
    model: Arc<Model>,
}

widget_handle!(Output);

impl Default for Output {
    fn default() -> Output {
        Output::new()
    }
}

impl Output {
    /// An empty output area.
    pub fn new() -> Output {
        Output {
            model: create_dom_widget(&OUTPUT, Vec::new()),
        }
    }

    /// Appends `text` as standard output (shown as preformatted text).
    pub fn append_stdout(&self, text: &str) {
        self.append(json!({"output_type": "stream", "name": "stdout", "text": text}));
    }

    /// Appends `text` as standard error (JupyterLab shows it on a red background).
    pub fn append_stderr(&self, text: &str) {
        self.append(json!({"output_type": "stream", "name": "stderr", "text": text}));
    }

    /// Appends `html` as a displayed HTML output (with a plain-text form for other
    /// frontends). The markup is shown as is: escape text that comes from data.
    pub fn append_html(&self, html: &str) {
        self.append(json!({
            "output_type": "display_data",
            "data": {"text/html": html, "text/plain": strip_tags(html)},
            "metadata": {},
        }));
    }

    /// Removes everything shown.
    pub fn clear(&self) {
        self.model.set(Attribute::Outputs, json!([]));
    }

    /// What the area shows, as plain text: streams and the text form of HTML, in order.
    pub fn text(&self) -> String {
        plain_text(&self.model)
    }

    /// Adds one output; the whole list goes to the frontend, which renders it afresh.
    fn append(&self, output: Value) {
        self.model.modify(|state| {
            let mut outputs = match state.get(Attribute::Outputs) {
                Some(Value::Array(outputs)) => outputs.clone(),
                _ => Vec::new(),
            };
            outputs.push(output);
            vec![(Attribute::Outputs, Value::Array(outputs))]
        });
    }
}
