//! The panel without widgets (the evcxr REPL, plain evcxr_jupyter), and the text views of
//! its results.

use super::rules::RULES_HINT;
use super::{Preview, RulesStatus, SaveOutcome, UndoReport, UploadStatus, UploadStep};
use crate::analysis::context::NetworkContext;
use crate::day::ListboxValues;
use crate::spot::upload::{UploadError, UploadReport};
use crate::views::html::{escape, ToHtml};
use std::fmt;

/// What to do without the flow-edge kernel: the same operations, as method calls.
pub(super) const NOTE: &str = "\
No live widgets here (they need the flow-edge Jupyter kernel). Score from code:
  let panel = day.panel()?;
  panel.preview(&Selection::new().src_ip(\"10.0.0.1\"))?      // what would be scored
  panel.score(&Selection::new().quick_ip(\"10.0.0.1\"), 1)?   // rating 1 high, 2 medium, 3 low
  panel.undo()?                                              // the last scoring
  panel.save()                                       // rules, sort, then send the feedback
Selection also takes .dst_ip(..), .sport(..), .dport(..); Day has score, save_and_sort,
restore_backup, and flow_edge::{apply_rules, attack_heuristics} work on it too.";

/// The listbox values with network-context names beside the addresses.
pub(super) fn labelled(lists: &ListboxValues, context: &NetworkContext) -> ListboxValues {
    ListboxValues {
        src_ips: context.labels(&lists.src_ips),
        dst_ips: context.labels(&lists.dst_ips),
        ..lists.clone()
    }
}

/// What the analyst is told about the network context, once, above the listboxes: why there
/// are no names (no file), then each skipped line of the file. Flags a warning.
fn context_remarks(context: &NetworkContext) -> Vec<(bool, String)> {
    let note = context.note().map(|note| (false, note.to_string()));
    let warnings = context
        .warning_lines()
        .into_iter()
        .map(|line| (true, format!("warning: {line}")));
    note.into_iter().chain(warnings).collect()
}

/// The network context remarks as HTML (empty when there are none): the note in grey, the
/// warnings in amber.
pub(super) fn context_html(context: &NetworkContext) -> String {
    let remarks = context_remarks(context);
    if remarks.is_empty() {
        return String::new();
    }
    let body: String = remarks
        .iter()
        .map(|(warning, line)| {
            let colour = if *warning { "#b54708" } else { "#666" };
            format!("<div style=\"color:{colour}\">{}</div>", escape(line))
        })
        .collect();
    format!("<div class=\"flow-edge-context\">{body}</div>")
}

/// What the rules did, as one line of HTML: grey, amber when they should have run and did
/// not; what they are on hover.
pub(super) fn rules_html(rules: &RulesStatus) -> String {
    let colour = if rules.is_warning() {
        "#b54708"
    } else {
        "#666"
    };
    format!(
        "<div class=\"flow-edge-rules\" style=\"color:{colour}\" title=\"{}\">{}</div>",
        escape(RULES_HINT),
        escape(&rules.to_string())
    )
}

/// The panel's text form: the network context remarks, what the rules did, the listbox
/// values table and the note on scoring from code.
pub(super) fn plain(
    lists: &ListboxValues,
    context: &NetworkContext,
    rules: &RulesStatus,
) -> String {
    let mut text = String::new();
    for (_, line) in context_remarks(context) {
        text.push_str(&line);
        text.push('\n');
    }
    text.push_str(&format!("{rules}\n"));
    text.push_str(&labelled(lists, context).to_string());
    format!("{text}\n{NOTE}")
}

/// Prints the panel for evcxr: HTML for notebooks, text for the REPL.
pub(super) fn emit(lists: &ListboxValues, context: &NetworkContext, rules: &RulesStatus) {
    let html = format!(
        "{}{}{}<pre>{}</pre>",
        context_html(context),
        rules_html(rules),
        labelled(lists, context).to_html(),
        escape(NOTE)
    );
    crate::views::emit_evcxr(&html, &plain(lists, context, rules));
}

/// The preview's first line: `would score 12 rows (3 already scored)`.
pub(super) fn preview_summary(preview: &Preview) -> String {
    let mut line = format!(
        "would score {} row{}",
        preview.matched,
        if preview.matched == 1 { "" } else { "s" }
    );
    if preview.already_scored > 0 {
        line.push_str(&format!(" ({} already scored)", preview.already_scored));
    }
    line
}

impl fmt::Display for Preview {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}", preview_summary(self))?;
        write!(f, "{}", self.first)
    }
}

impl ToHtml for Preview {
    fn to_html(&self) -> String {
        format!(
            "<div><b>{}</b></div>{}",
            escape(&preview_summary(self)),
            self.first.to_html()
        )
    }
}

/// The lines *Save* reports: the sort, then the upload.
pub(super) fn save_lines(outcome: &SaveOutcome) -> Vec<(bool, String)> {
    let mut lines = Vec::new();
    match &outcome.sort {
        Ok(_) => lines.push((true, "Suspicious connects successfully updated".to_string())),
        Err(error) => lines.push((false, format!("Not saved: {error}"))),
    }
    if let Some(error) = &outcome.refresh {
        lines.push((false, format!("Lists not refreshed: {error}")));
    }
    match &outcome.upload {
        UploadStep::NotTried => {}
        UploadStep::Started { deadline } => lines.push((true, uploading_line(*deadline))),
        UploadStep::Done(result) => lines.push(upload_line(result)),
    }
    lines
}

/// The line of an upload under way.
fn uploading_line(deadline: std::time::Duration) -> String {
    format!(
        "Uploading the feedback to the ML node… (the outcome shows here when it ends, within {} s)",
        deadline.as_secs()
    )
}

/// The line of an upload that ended: sent, or why not.
pub(super) fn upload_line(result: &Result<UploadReport, UploadError>) -> (bool, String) {
    match result {
        Ok(report) => (true, format!("Feedback uploaded: {report}")),
        Err(error) => (
            false,
            format!("Feedback not uploaded: {error} (local files unchanged)"),
        ),
    }
}

impl fmt::Display for UploadStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UploadStatus::Idle => f.write_str("No feedback upload started from this panel"),
            UploadStatus::Running { started, deadline } => write!(
                f,
                "{} ({} s so far)",
                uploading_line(*deadline),
                started.elapsed().as_secs()
            ),
            UploadStatus::Ended(result) => f.write_str(&upload_line(result).1),
        }
    }
}

impl fmt::Display for SaveOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let lines: Vec<String> = save_lines(self).into_iter().map(|(_, l)| l).collect();
        write!(f, "{}", lines.join("\n"))?;
        if let Ok(report) = &self.sort {
            write!(f, "\n{report}")?;
        }
        Ok(())
    }
}

impl ToHtml for SaveOutcome {
    fn to_html(&self) -> String {
        let mut html = String::new();
        for (ok, line) in save_lines(self) {
            let colour = if ok { "#1a7f37" } else { "#b42318" };
            html.push_str(&format!(
                "<div style=\"color:{colour}\">{}</div>",
                escape(&line)
            ));
        }
        if let Ok(report) = &self.sort {
            html.push_str(&report.to_html());
        }
        html
    }
}

/// The line *Undo* reports.
pub(super) fn undo_line(report: &UndoReport) -> String {
    format!(
        "Last scoring undone: {} rows back to their previous severity, their feedback rows removed",
        report.rows
    )
}

impl fmt::Display for UndoReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&undo_line(self))
    }
}

impl ToHtml for UndoReport {
    fn to_html(&self) -> String {
        format!("<p class=\"flow-edge\">{}</p>", escape(&undo_line(self)))
    }
}

impl ToHtml for RulesStatus {
    fn to_html(&self) -> String {
        rules_html(self)
    }
}

crate::views::evcxr_view!(Preview, SaveOutcome, UndoReport, RulesStatus);

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn the_text_panel_lists_values_with_names_and_says_how_to_score_from_code() {
        let lists = ListboxValues {
            src_ips: vec!["10.0.0.5".into(), "8.8.8.8".into()],
            dst_ips: vec!["10.0.0.9".into()],
            sports: vec!["5000".into()],
            dports: vec!["53".into()],
            rows_read: 2,
        };
        let context = NetworkContext::parse(
            b"ip,name\n10.0.0.5,Mail server\n",
            Path::new("networkcontext.csv"),
        );
        let text = plain(&lists, &context, &RulesStatus::ReadOnly);
        for expected in [
            "rules: not applied: the day was opened read-only",
            "Source IP",
            "Dst Port",
            "10.0.0.5 (Mail server)",
            "8.8.8.8",
            "panel.score(&Selection::new().quick_ip(",
        ] {
            assert!(text.contains(expected), "{expected:?} missing from\n{text}");
        }
    }

    #[test]
    fn context_warnings_come_once_before_the_listboxes_in_text_and_html() {
        let lists = ListboxValues {
            src_ips: vec!["10.0.0.5".into()],
            dst_ips: vec!["10.0.0.9".into()],
            sports: vec!["5000".into()],
            dports: vec!["53".into()],
            rows_read: 1,
        };
        let context = NetworkContext::parse(
            b"10.0.0.5, Mail server\n10.0.0/8,Typo\n10.0.0.9, DNS\n",
            Path::new("networkcontext.csv"),
        );
        let warning = "warning: networkcontext.csv:2:1 (column ip): \"10.0.0/8\" is not an IPv4 or IPv6 address (line skipped)";
        let text = plain(&lists, &context, &RulesStatus::Off);
        assert_eq!(text.matches(warning).count(), 1, "{text}");
        assert!(text.starts_with(warning), "{text}");
        assert!(text.contains("10.0.0.9 (DNS)"), "{text}");
        let html = context_html(&context);
        assert_eq!(html.matches("networkcontext.csv:2:1").count(), 1, "{html}");
        assert!(html.contains("&quot;10.0.0/8&quot;"), "{html}");
        let clean = NetworkContext::parse(b"10.0.0.5,Mail\n", Path::new("networkcontext.csv"));
        assert_eq!(context_html(&clean), "");
    }
}
