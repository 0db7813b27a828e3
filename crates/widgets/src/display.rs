//! Showing a widget in a notebook output, live or static.
//!
//! evcxr turns `EVCXR_BEGIN_CONTENT <mime>` blocks printed on stdout into outputs. Under the
//! flow-edge kernel a widget shows as a widget view (its comm is already open, so the
//! frontend knows the model); anywhere else (plain evcxr_jupyter, the REPL) it shows as
//! static HTML and text saying that interaction needs the flow-edge kernel.

use crate::controls::layout;
use crate::model::Model;
use crate::protocol::{self, VIEW_MIME_TYPE};
use std::io::Write;

/// What a static rendering says about the missing kernel.
pub(crate) const NEEDS_KERNEL: &str =
    "Interactive widgets need the flow-edge kernel (kernel name \"flow-edge\"); this is a static view.";

/// The static HTML of a widget in a wrapper carrying its layout's CSS (size, margins).
pub(crate) fn static_html(model: &Model) -> String {
    let css = model
        .layout()
        .map(|l| layout::inline_css(l))
        .unwrap_or_default();
    format!(
        "<div style=\"{css}\">{}</div>",
        (model.kind().render_html)(model)
    )
}

/// Prints the output blocks for `model` on stdout, for evcxr to collect.
pub(crate) fn show(model: &Model) {
    let text = (model.kind().render_text)(model);
    let blocks: Vec<(&str, String)> = if model.is_live() {
        vec![
            (
                VIEW_MIME_TYPE,
                protocol::view_bundle(model.id()).to_string(),
            ),
            ("text/plain", text),
        ]
    } else {
        let html = format!(
            "<div class=\"flow-edge-static-widget\">{}<p><small><i>{}</i></small></p></div>",
            static_html(model),
            crate::model::escape_html(NEEDS_KERNEL)
        );
        vec![
            ("text/html", html),
            ("text/plain", format!("{text}\n{NEEDS_KERNEL}")),
        ]
    };
    let mut out = std::io::stdout().lock();
    for (mime_type, content) in blocks {
        // A line equal to the end marker would cut the block short; widget text is ours, but
        // an HTML value comes from the user.
        let content = content.replace("\nEVCXR_END_CONTENT", "\n EVCXR_END_CONTENT");
        let written = writeln!(
            out,
            "EVCXR_BEGIN_CONTENT {mime_type}\n{content}\nEVCXR_END_CONTENT"
        );
        if let Err(error) = written {
            eprintln!("flow-edge widgets: cannot display widget: {error}");
            return;
        }
    }
    // evcxr reads stdout line by line; make sure the blocks leave this process now.
    if let Err(error) = out.flush() {
        eprintln!("flow-edge widgets: cannot display widget: {error}");
    }
}
