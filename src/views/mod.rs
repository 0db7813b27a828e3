//! Three views of every result: a text table for the evcxr REPL and the command line
//! (`Display`, drawn with comfy-table), HTML for notebooks (an `evcxr_display` method, the
//! convention evcxr looks for), and the plain public fields for programs.
//!
//! Long results are paged: a view shows the first [`PAGE_ROWS`] rows and says how many more
//! there are, so displaying a million-row result does not flood a notebook.

mod bars;
pub(crate) mod connections;
pub(crate) mod endpoint;
mod engine;
mod heuristics;
pub mod html;
mod rules;
pub(crate) mod text;

pub use html::ToHtml;

/// Rows a table shows before it says "… N more".
pub const PAGE_ROWS: usize = 25;

/// The block evcxr reads from a cell's output: one `EVCXR_BEGIN_CONTENT <mime>` …
/// `EVCXR_END_CONTENT` section per MIME type, HTML for notebooks and text for plain frontends.
pub(crate) fn evcxr_block(html: &str, plain: &str) -> String {
    format!(
        "EVCXR_BEGIN_CONTENT text/html\n{html}\nEVCXR_END_CONTENT\n\
         EVCXR_BEGIN_CONTENT text/plain\n{plain}\nEVCXR_END_CONTENT\n"
    )
}

/// Prints a result for evcxr in one write, so no other output interleaves with the block.
pub(crate) fn emit_evcxr(html: &str, plain: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    // A notebook display has nowhere to report a closed stdout; there is nothing to do then.
    let _ = out.write_all(evcxr_block(html, plain).as_bytes());
    let _ = out.flush();
}

/// Gives a result type its `evcxr_display` method (inherent, so notebooks need no import).
macro_rules! evcxr_view {
    ($($ty:ty),+ $(,)?) => {$(
        impl $ty {
            /// Shows this result in a notebook (HTML) or an evcxr REPL (text table).
            pub fn evcxr_display(&self) {
                $crate::views::emit_evcxr(
                    &$crate::views::ToHtml::to_html(self),
                    &self.to_string(),
                );
            }
        }
    )+};
}
pub(crate) use evcxr_view;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_evcxr_block_carries_html_and_text_each_in_its_own_section() {
        let block = evcxr_block("<table>\n<tr></tr>\n</table>", "a table");
        assert_eq!(
            block,
            "EVCXR_BEGIN_CONTENT text/html\n<table>\n<tr></tr>\n</table>\nEVCXR_END_CONTENT\n\
             EVCXR_BEGIN_CONTENT text/plain\na table\nEVCXR_END_CONTENT\n"
        );
    }
}
