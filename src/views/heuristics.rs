//! Views of the attack heuristics: a table with text bars, and a table with an SVG chart.

use std::fmt;

use super::bars::{svg_bars, text_bar};
use super::html::{more, with_name, HtmlTable, ToHtml};
use super::{evcxr_view, text, PAGE_ROWS};
use crate::analysis::heuristics::{Heuristics, SourceFanOut};

/// The columns shown: the name column only when some listed source has a name.
fn headers(named: bool) -> (Vec<&'static str>, [usize; 2]) {
    if named {
        (vec!["srcIP", "name", "destinations", "rows"], [2, 3])
    } else {
        (vec!["srcIP", "destinations", "rows"], [1, 2])
    }
}

fn named(h: &Heuristics) -> bool {
    page(h).iter().any(|s| s.name.is_some())
}

fn caption(h: &Heuristics) -> String {
    format!(
        "{} of {} sources connect to more than {} destinations ({} rows read)",
        h.sources.len(),
        h.sources_seen,
        h.threshold,
        h.rows_read
    )
}

fn page(h: &Heuristics) -> &[SourceFanOut] {
    &h.sources[..h.sources.len().min(PAGE_ROWS)]
}

fn remaining(h: &Heuristics) -> Option<String> {
    more(h.sources.len().saturating_sub(PAGE_ROWS) as u64, "sources")
}

fn cells(s: &SourceFanOut, named: bool) -> Vec<String> {
    let mut cells = vec![s.ip.clone()];
    if named {
        cells.push(s.name.clone().unwrap_or_default());
    }
    cells.push(s.destinations.to_string());
    cells.push(s.rows.to_string());
    cells
}

impl fmt::Display for Heuristics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let max = self.sources.first().map_or(0, |s| s.destinations);
        let named = named(self);
        let (mut headers, numeric) = headers(named);
        headers.push("");
        let mut table = text::table(&headers, &numeric);
        for source in page(self) {
            let mut row = cells(source, named);
            row.push(text_bar(source.destinations, max));
            table.add_row(row);
        }
        writeln!(f, "{}", caption(self))?;
        write!(f, "{table}")?;
        if let Some(line) = remaining(self) {
            write!(f, "\n{line}")?;
        }
        Ok(())
    }
}

impl ToHtml for Heuristics {
    fn to_html(&self) -> String {
        let bars: Vec<(String, u64)> = page(self)
            .iter()
            .map(|s| (with_name(&s.ip, s.name.as_deref()), s.destinations))
            .collect();
        let named = named(self);
        let (headers, numeric) = headers(named);
        let mut table = HtmlTable::new(&caption(self), &headers, &numeric);
        for source in page(self) {
            table.row(&cells(source, named));
        }
        let table = table.finish(remaining(self).as_deref());
        if bars.is_empty() {
            return table;
        }
        format!(
            "<div class=\"flow-edge-heuristics\">{}{table}</div>",
            svg_bars("distinct destinations per source", &bars)
        )
    }
}

evcxr_view!(Heuristics);
