//! Views of the attack heuristics: a table with text bars, and a table with an SVG chart.
//! The count the sources were chosen by comes first and is the one drawn.

use std::fmt;

use super::bars::{svg_bars, text_bar};
use super::html::{more, with_name, HtmlTable, ToHtml};
use super::{evcxr_view, text, PAGE_ROWS};
use crate::analysis::heuristics::{FanOut, Heuristics, SourceFanOut};

/// The count columns, the chosen one first.
fn count_headers(count: FanOut) -> [&'static str; 2] {
    match count {
        FanOut::Rows => ["rows", "destinations"],
        FanOut::Destinations => ["destinations", "rows"],
    }
}

/// The columns shown (the name column only when some listed source has a name), and the
/// numeric ones.
fn headers(h: &Heuristics, named: bool) -> (Vec<&'static str>, [usize; 2]) {
    let mut headers = vec!["srcIP"];
    if named {
        headers.push("name");
    }
    let first = headers.len();
    headers.extend(count_headers(h.count));
    (headers, [first, first + 1])
}

fn named(h: &Heuristics) -> bool {
    page(h).iter().any(|s| s.name.is_some())
}

fn caption(h: &Heuristics) -> String {
    let what = match h.count {
        FanOut::Rows => format!("have more than {} rows (connections)", h.threshold),
        FanOut::Destinations => format!("connect to more than {} destinations", h.threshold),
    };
    format!(
        "{} of {} sources {what} ({} rows read)",
        h.sources.len(),
        h.sources_seen,
        h.rows_read
    )
}

/// The chart's title: what the bars measure.
fn chart_title(count: FanOut) -> &'static str {
    match count {
        FanOut::Rows => "rows (connections) per source",
        FanOut::Destinations => "distinct destinations per source",
    }
}

fn page(h: &Heuristics) -> &[SourceFanOut] {
    &h.sources[..h.sources.len().min(PAGE_ROWS)]
}

fn remaining(h: &Heuristics) -> Option<String> {
    more(h.sources.len().saturating_sub(PAGE_ROWS) as u64, "sources")
}

fn cells(h: &Heuristics, s: &SourceFanOut, named: bool) -> Vec<String> {
    let mut cells = vec![s.ip.clone()];
    if named {
        cells.push(s.name.clone().unwrap_or_default());
    }
    let (chosen, other) = h.count.counts(s);
    cells.push(chosen.to_string());
    cells.push(other.to_string());
    cells
}

impl fmt::Display for Heuristics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let max = self.sources.first().map_or(0, |s| self.count.of(s));
        let named = named(self);
        let (mut headers, numeric) = headers(self, named);
        headers.push("");
        let mut table = text::table(&headers, &numeric);
        for source in page(self) {
            let mut row = cells(self, source, named);
            row.push(text_bar(self.count.of(source), max));
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
            .map(|s| (with_name(&s.ip, s.name.as_deref()), self.count.of(s)))
            .collect();
        let named = named(self);
        let (headers, numeric) = headers(self, named);
        let mut table = HtmlTable::new(&caption(self), &headers, &numeric);
        for source in page(self) {
            table.row(&cells(self, source, named));
        }
        let table = table.finish(remaining(self).as_deref());
        if bars.is_empty() {
            return table;
        }
        format!(
            "<div class=\"flow-edge-heuristics\">{}{table}</div>",
            svg_bars(chart_title(self.count), &bars)
        )
    }
}

evcxr_view!(Heuristics);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::heuristics::Tally;

    fn scanned(count: FanOut) -> Heuristics {
        let mut tally = Tally::new();
        for i in 0..30 {
            tally.add("10.0.0.1", &format!("192.168.0.{i}"));
        }
        for _ in 0..40 {
            tally.add("10.0.0.2", "192.168.0.1");
        }
        tally.finish(count, 20)
    }

    #[test]
    fn the_original_count_is_shown_as_rows_first_and_charted() {
        let h = scanned(FanOut::Rows);
        let text = h.to_string();
        assert!(
            text.starts_with("2 of 2 sources have more than 20 rows (connections)"),
            "{text}"
        );
        let header = text.lines().nth(2).unwrap();
        assert!(header.find("rows") < header.find("destinations"), "{text}");
        let html = h.to_html();
        assert!(html.contains("<title>rows (connections) per source</title>"));
        // The busiest source by rows has the longest bar.
        assert!(html.contains("10.0.0.2</text><rect x=\"260\" y=\"26\" width=\"360\""));
    }

    #[test]
    fn the_documented_count_is_shown_as_destinations_first_and_charted() {
        let h = scanned(FanOut::Destinations);
        let text = h.to_string();
        assert!(
            text.starts_with("1 of 2 sources connect to more than 20 destinations"),
            "{text}"
        );
        assert!(!text.contains("10.0.0.2"), "{text}");
        let html = h.to_html();
        assert!(html.contains("<title>distinct destinations per source</title>"));
    }
}
