//! The original's rules, run by the panel as the original ran them.
//!
//! The original's `displaythis()` called `set_rules()` before it filled the listboxes, and
//! *Save* called `displaythis()` again: the rows the rules matched had their severity at once,
//! left the listboxes (which list unscored rows only) and moved to the end on the next Save.
//! The panel does the same with its rule set ([`crate::PanelOptions::rules`]): when it opens,
//! and before *Save* sorts, it applies the rules to the unscored rows in one pass of the
//! engine ([`apply_rules`]). Unlike the original it leaves the rows an analyst scored alone
//! (the original overwrote them with 2); like it, it does not feed rule scores back to the ML
//! node. What the rules did since the panel opened is one line above the listboxes.
//!
//! A day opened read-only ([`Day::open_read_only`]) is not written: the panel opens and says
//! the rules were not applied. Neither is a day where applying fails (no write access, a lock
//! held too long, a rule on a column the day lacks): the panel opens and shows why.

use crate::analysis::rules::{apply_rules, ApplyOptions, RuleSet, RulesReport};
use crate::day::Day;
use std::fmt;

/// Rows one rule scored since the panel opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleTally {
    /// The rule's conditions, as written in a rules file (`dport <= 1024 and ibyt <= 54`).
    pub conditions: String,
    /// The severity it gives.
    pub severity: u8,
    /// Rows it scored (on open and before each Save).
    pub rows: u64,
}

/// What the panel's rules have done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RulesStatus {
    /// Turned off ([`crate::PanelOptions::rules_on_open`] is false).
    Off,
    /// Not applied: the day was opened read-only, and rules write it.
    ReadOnly,
    /// Applied: one tally per rule, in rule order (empty when the rule set is).
    Applied(Vec<RuleTally>),
    /// The last application failed and wrote nothing; why.
    Failed(String),
}

impl RulesStatus {
    /// Rows the rules scored since the panel opened.
    pub fn scored(&self) -> u64 {
        match self {
            RulesStatus::Applied(tallies) => tallies.iter().map(|t| t.rows).sum(),
            _ => 0,
        }
    }

    /// True when the line is a warning: the rules should have run and did not.
    pub(super) fn is_warning(&self) -> bool {
        matches!(self, RulesStatus::ReadOnly | RulesStatus::Failed(_))
    }
}

/// The panel's rule set, whether it applies it, and what it did.
#[derive(Debug, Clone)]
pub(super) struct PanelRules {
    rules: RuleSet,
    status: RulesStatus,
}

impl PanelRules {
    /// `rules`, applied when `on`.
    pub(super) fn new(rules: RuleSet, on: bool) -> PanelRules {
        let status = if on {
            RulesStatus::Applied(tallies(&rules))
        } else {
            RulesStatus::Off
        };
        PanelRules { rules, status }
    }

    /// What the rules did so far.
    pub(super) fn status(&self) -> &RulesStatus {
        &self.status
    }

    /// Applies the rules to the day's unscored rows, without feedback, unless they are off,
    /// the rule set is empty or the day is read-only; adds what they scored to the tally.
    pub(super) fn apply(&mut self, day: &Day) {
        if self.status == RulesStatus::Off || self.rules.is_empty() {
            return;
        }
        if day.is_read_only() {
            self.status = RulesStatus::ReadOnly;
            return;
        }
        // Unscored rows only, not fed back: the defaults.
        match apply_rules(day, &self.rules, ApplyOptions::default()) {
            Ok(report) => self.add(&report),
            Err(error) => self.status = RulesStatus::Failed(error.to_string()),
        }
    }

    fn add(&mut self, report: &RulesReport) {
        let mut sums = match &self.status {
            RulesStatus::Applied(tallies) => tallies.clone(),
            _ => tallies(&self.rules),
        };
        for (tally, count) in sums.iter_mut().zip(&report.counts) {
            tally.rows += count.rows;
        }
        self.status = RulesStatus::Applied(sums);
    }
}

/// A zero tally per rule.
fn tallies(rules: &RuleSet) -> Vec<RuleTally> {
    rules
        .rules()
        .iter()
        .map(|rule| RuleTally {
            conditions: rule
                .conditions()
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(" and "),
            severity: rule.severity(),
            rows: 0,
        })
        .collect()
}

/// What the line above the listboxes says on hover.
pub(super) const RULES_HINT: &str = "The rules of the rules cell (the original's set_rules), \
applied to the unscored rows when the panel opened and before each Save. Rows an analyst \
scored are left alone; rule scores are not sent to the ML node.";

/// One line: `rules: 380 rows → 2; `dport <= 1024 and ibyt <= 54`: 312, …`.
impl fmt::Display for RulesStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RulesStatus::Off => f.write_str(
                "rules: off (rules_on_open is false); unscored rows are left as they are",
            ),
            RulesStatus::ReadOnly => f.write_str(
                "rules: not applied: the day was opened read-only and rules write it \
                 (open it with Day::open, with write access, to apply them)",
            ),
            RulesStatus::Failed(error) => write!(f, "rules: not applied: {error}"),
            RulesStatus::Applied(tallies) if tallies.is_empty() => {
                f.write_str("rules: none (the rule set is empty)")
            }
            RulesStatus::Applied(tallies) => {
                let total: u64 = tallies.iter().map(|t| t.rows).sum();
                let one_severity = tallies.iter().all(|t| t.severity == tallies[0].severity);
                let rows = if total == 1 { "row" } else { "rows" };
                if one_severity {
                    write!(f, "rules: {total} {rows} → {}", tallies[0].severity)?;
                } else {
                    write!(f, "rules: {total} {rows}")?;
                }
                for (index, tally) in tallies.iter().enumerate() {
                    f.write_str(if index == 0 { "; " } else { ", " })?;
                    write!(f, "`{}`", tally.conditions)?;
                    if !one_severity {
                        write!(f, " → {}", tally.severity)?;
                    }
                    write!(f, ": {}", tally.rows)?;
                }
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_names_each_rule_with_its_rows_and_the_severity_once() {
        let mut rules = PanelRules::new(RuleSet::original(), true);
        let counts = |rows: [u64; 3]| RulesReport {
            counts: RuleSet::original()
                .rules()
                .iter()
                .zip(rows)
                .map(|(rule, rows)| crate::analysis::rules::RuleCount {
                    rule: rule.to_string(),
                    severity: rule.severity(),
                    rows,
                })
                .collect(),
            rows_read: 1000,
            already_scored: 0,
            fed_back: false,
        };
        rules.add(&counts([312, 3, 65]));
        assert_eq!(
            rules.status().to_string(),
            "rules: 380 rows → 2; `dport <= 1024 and ibyt <= 54`: 312, \
             `dport <= 1024 and ipkt == 3 and ibyt == 152`: 3, `sport == 0 and dport <= 1023`: 65"
        );
        // Save adds what the rules scored then.
        rules.add(&counts([1, 0, 0]));
        assert_eq!(rules.status().scored(), 381);
    }

    #[test]
    fn rules_of_several_severities_carry_theirs_and_off_or_empty_say_so() {
        let mixed = RuleSet::parse("dport == 53 -> 3\nsport == 0 -> 1\n", "t").unwrap();
        let rules = PanelRules::new(mixed, true);
        assert_eq!(
            rules.status().to_string(),
            "rules: 0 rows; `dport == 53` → 3: 0, `sport == 0` → 1: 0"
        );
        let off = PanelRules::new(RuleSet::original(), false);
        assert!(off.status().to_string().starts_with("rules: off"));
        let empty = PanelRules::new(RuleSet::default(), true);
        assert_eq!(
            empty.status().to_string(),
            "rules: none (the rule set is empty)"
        );
    }
}
