//! Views of the engine's results: listbox values, score, save-and-sort.

use std::fmt;

use super::html::{more, HtmlTable, ToHtml};
use super::{evcxr_view, text, PAGE_ROWS};
use crate::{ListboxValues, ScoreReport, SortReport};

const LISTBOX_HEADERS: [&str; 4] = ["Source IP", "Dest IP", "Src Port", "Dst Port"];

fn listbox_rows(values: &ListboxValues) -> (Vec<[String; 4]>, usize) {
    let lists = [
        &values.src_ips,
        &values.dst_ips,
        &values.sports,
        &values.dports,
    ];
    let longest = lists.iter().map(|l| l.len()).max().unwrap_or(0);
    let rows = (0..longest.min(PAGE_ROWS))
        .map(|i| lists.map(|list| list.get(i).cloned().unwrap_or_default()))
        .collect();
    (rows, longest.saturating_sub(PAGE_ROWS))
}

fn listbox_caption(values: &ListboxValues) -> String {
    format!(
        "listbox values from the first {} rows: {} source IPs, {} dest IPs, {} source ports, {} dest ports",
        values.rows_read,
        values.src_ips.len(),
        values.dst_ips.len(),
        values.sports.len(),
        values.dports.len()
    )
}

impl fmt::Display for ListboxValues {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (rows, remaining) = listbox_rows(self);
        let mut table = text::table(&LISTBOX_HEADERS, &[2, 3]);
        for row in rows {
            table.add_row(row.to_vec());
        }
        writeln!(f, "{}", listbox_caption(self))?;
        write!(f, "{table}")?;
        if let Some(line) = more(remaining as u64, "values in the longest list") {
            write!(f, "\n{line}")?;
        }
        Ok(())
    }
}

impl ToHtml for ListboxValues {
    fn to_html(&self) -> String {
        let (rows, remaining) = listbox_rows(self);
        let mut table = HtmlTable::new(&listbox_caption(self), &LISTBOX_HEADERS, &[2, 3]);
        for row in rows {
            table.row(&row);
        }
        table.finish(more(remaining as u64, "values in the longest list").as_deref())
    }
}

fn score_line(report: &ScoreReport) -> String {
    format!(
        "{} matching connections scored (of {} rows)",
        report.scored, report.rows
    )
}

impl fmt::Display for ScoreReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&score_line(self))
    }
}

impl ToHtml for ScoreReport {
    fn to_html(&self) -> String {
        format!(
            "<p class=\"flow-edge\">{}</p>",
            super::html::escape(&score_line(self))
        )
    }
}

fn sort_cells(report: &SortReport) -> [String; 5] {
    [
        report.rows.to_string(),
        report.unscored.to_string(),
        report.by_severity[0].to_string(),
        report.by_severity[1].to_string(),
        report.by_severity[2].to_string(),
    ]
}

const SORT_HEADERS: [&str; 5] = ["rows", "unscored", "sev 1", "sev 2", "sev 3"];

impl fmt::Display for SortReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut table = text::table(&SORT_HEADERS, &[0, 1, 2, 3, 4]);
        table.add_row(sort_cells(self).to_vec());
        write!(f, "suspicious connects saved and sorted\n{table}")
    }
}

impl ToHtml for SortReport {
    fn to_html(&self) -> String {
        let mut table = HtmlTable::new(
            "suspicious connects saved and sorted",
            &SORT_HEADERS,
            &[0, 1, 2, 3, 4],
        );
        table.row(&sort_cells(self));
        table.finish(None)
    }
}

evcxr_view!(ListboxValues, ScoreReport, SortReport);
