//! Views of rules: a rule set (the notebook's rules cell shows it back) and a rules report
//! (per-rule counts and what was left alone).

use std::fmt;

use super::html::{HtmlTable, ToHtml};
use super::{evcxr_view, text};
use crate::analysis::rules::{RuleSet, RulesReport};

const HEADERS: [&str; 4] = ["#", "rule", "sev", "rows"];
const NUMERIC: [usize; 3] = [0, 2, 3];

fn rows(report: &RulesReport) -> Vec<[String; 4]> {
    report
        .counts
        .iter()
        .enumerate()
        .map(|(index, count)| {
            [
                (index + 1).to_string(),
                count.rule.clone(),
                count.severity.to_string(),
                count.rows.to_string(),
            ]
        })
        .collect()
}

fn summary(report: &RulesReport) -> String {
    let mut line = format!(
        "{} of {} rows scored by rules",
        report.scored(),
        report.rows_read
    );
    if report.already_scored > 0 {
        line.push_str(&format!(
            "; {} already scored rows left alone",
            report.already_scored
        ));
    }
    line.push_str(if report.fed_back {
        "; sent to the feedback file"
    } else {
        "; not in the feedback file"
    });
    line
}

impl fmt::Display for RulesReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut table = text::table(&HEADERS, &NUMERIC);
        for row in rows(self) {
            table.add_row(row.to_vec());
        }
        write!(f, "{table}\n{}", summary(self))
    }
}

impl ToHtml for RulesReport {
    fn to_html(&self) -> String {
        let mut table = HtmlTable::new("rules applied", &HEADERS, &NUMERIC);
        for row in rows(self) {
            table.row(&row);
        }
        table.finish(Some(&summary(self)))
    }
}

/// The caption of a rule set's table.
fn rule_set_caption(rules: &RuleSet) -> String {
    match rules.len() {
        0 => "no rules".to_string(),
        1 => "1 rule".to_string(),
        n => format!("{n} rules, tried in order: the first that matches a row decides it"),
    }
}

impl ToHtml for RuleSet {
    fn to_html(&self) -> String {
        let mut table = HtmlTable::new(&rule_set_caption(self), &["#", "rule"], &[0]);
        for (index, rule) in self.rules().iter().enumerate() {
            table.row(&[(index + 1).to_string(), rule.to_string()]);
        }
        table.finish(None)
    }
}

evcxr_view!(RulesReport, RuleSet);
