//! Small HTML building blocks: escaping, tables and the "… N more" footer.

use std::fmt::Write;

/// A result that can draw itself as an HTML fragment for a notebook.
pub trait ToHtml {
    /// The HTML fragment (a table, a chart), self-contained, with inline styles only.
    fn to_html(&self) -> String;
}

/// Escapes text for HTML element content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// An HTML table under construction: header, rows of already-escaped cells, a caption and a
/// footer line.
pub(crate) struct HtmlTable {
    html: String,
    numeric: Vec<bool>,
}

const TABLE_STYLE: &str = "border-collapse:collapse;font-family:monospace;font-size:12px";
const CELL_STYLE: &str = "padding:2px 8px;border-bottom:1px solid #ddd";

impl HtmlTable {
    /// A table with these column titles; `numeric` columns are right-aligned.
    pub fn new(caption: &str, headers: &[&str], numeric: &[usize]) -> HtmlTable {
        let numeric: Vec<bool> = (0..headers.len()).map(|i| numeric.contains(&i)).collect();
        let mut html = format!(
            "<table class=\"flow-edge\" style=\"{TABLE_STYLE}\"><caption style=\"text-align:left;font-weight:bold\">{}</caption><thead><tr>",
            escape(caption)
        );
        for (header, &right) in headers.iter().zip(&numeric) {
            let _ = write!(
                html,
                "<th style=\"{CELL_STYLE};text-align:{}\">{}</th>",
                if right { "right" } else { "left" },
                escape(header)
            );
        }
        html.push_str("</tr></thead><tbody>");
        HtmlTable { html, numeric }
    }

    /// Adds a row of plain-text cells (escaped here).
    pub fn row<S: AsRef<str>>(&mut self, cells: &[S]) {
        let escaped: Vec<String> = cells.iter().map(|c| escape(c.as_ref())).collect();
        self.raw_row(&escaped);
    }

    /// Adds a row of cells that are already HTML.
    pub fn raw_row<S: AsRef<str>>(&mut self, cells: &[S]) {
        self.html.push_str("<tr>");
        for (index, cell) in cells.iter().enumerate() {
            let right = self.numeric.get(index).copied().unwrap_or(false);
            let _ = write!(
                self.html,
                "<td style=\"{CELL_STYLE};text-align:{}\">{}</td>",
                if right { "right" } else { "left" },
                cell.as_ref()
            );
        }
        self.html.push_str("</tr>");
    }

    /// Closes the table, with a footer line (escaped) when there is one.
    pub fn finish(mut self, footer: Option<&str>) -> String {
        self.html.push_str("</tbody>");
        if let Some(footer) = footer {
            let _ = write!(
                self.html,
                "<tfoot><tr><td colspan=\"{}\" style=\"padding:2px 8px;color:#666\">{}</td></tr></tfoot>",
                self.numeric.len(),
                escape(footer)
            );
        }
        self.html.push_str("</table>");
        self.html
    }
}

/// "… 12 more rows" for a table cut at its page size, `None` when nothing was cut.
pub(crate) fn more(remaining: u64, what: &str) -> Option<String> {
    (remaining > 0).then(|| format!("… {remaining} more {what}"))
}

/// A value with a name beside it, as text: `10.1.2.3 (Mail server)`.
pub(crate) fn with_name(ip: &str, name: Option<&str>) -> String {
    match name {
        Some(name) => format!("{ip} ({name})"),
        None => ip.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_text_is_escaped_in_every_cell_and_footer() {
        let mut table = HtmlTable::new("<b>caption</b>", &["a<", "n"], &[1]);
        table.row(&["<script>alert('x')</script>", "1 & 2"]);
        let html = table.finish(Some("\"quoted\""));
        assert!(!html.contains("<script>"));
        assert!(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"));
        assert!(html.contains("1 &amp; 2"));
        assert!(html.contains("&quot;quoted&quot;"));
        assert!(html.contains("&lt;b&gt;caption&lt;/b&gt;"));
        assert!(html.contains("text-align:right\">1 &amp; 2</td>"));
    }
}
