//! Applying a [`RuleSet`] to a day: one pass through the engine's locked, crash-safe rewrite.

use std::fmt;

use super::plan::Plan;
use super::{Fields, Rule, RuleSet};
use crate::{Column, Day, Error, Row};

impl Fields for Row<'_> {
    fn field(&self, column: Column) -> &str {
        self.get(column)
    }
}

/// Choices for one application of rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ApplyOptions {
    /// Let rules change rows that already have a severity. Off by default, so rules never
    /// overwrite an analyst's scoring (the original rewrote every matching row, each time the
    /// notebook opened).
    pub rescore: bool,
    /// Append the rows the rules scored to the feedback file, as if an analyst had scored
    /// them. Off by default: rule verdicts are not analyst feedback for the model.
    pub feed_back: bool,
}

/// How many rows one rule decided.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleCount {
    /// The rule, as it reads in a rules file.
    pub rule: String,
    /// The severity it gives.
    pub severity: u8,
    /// Rows for which it was the first matching rule.
    pub rows: u64,
}

/// What applying rules did to a day.
#[derive(Debug, Clone, PartialEq)]
pub struct RulesReport {
    /// One count per rule, in rule order.
    pub counts: Vec<RuleCount>,
    /// Data rows read.
    pub rows_read: u64,
    /// Rows left alone because they already had a severity (0 with `rescore`).
    pub already_scored: u64,
    /// Whether the scored rows were appended to the feedback file.
    pub fed_back: bool,
}

impl RulesReport {
    /// Rows some rule decided.
    pub fn scored(&self) -> u64 {
        self.counts.iter().map(|c| c.rows).sum()
    }
}

/// Why rules could not be applied. Nothing was written in any case.
#[derive(Debug)]
pub enum RulesError {
    /// A rule reads a column this day's file does not have.
    MissingColumn {
        /// The rule, as written.
        rule: String,
        /// The column it reads.
        column: &'static str,
        /// The flow file.
        path: std::path::PathBuf,
    },
    /// The engine refused or failed (bad row, I/O, lock).
    Engine(Error),
}

impl fmt::Display for RulesError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RulesError::MissingColumn { rule, column, path } => write!(
                f,
                "{}: no column {column:?} for rule `{rule}`; nothing changed",
                path.display()
            ),
            RulesError::Engine(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for RulesError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            RulesError::Engine(e) => Some(e),
            RulesError::MissingColumn { .. } => None,
        }
    }
}

impl From<Error> for RulesError {
    fn from(e: Error) -> Self {
        RulesError::Engine(e)
    }
}

/// Checks every rule against the day's columns, then gives each row the severity of the first
/// rule it matches, in one pass; see [`ApplyOptions`] for scored rows and feedback.
pub fn apply_rules(
    day: &Day,
    rules: &RuleSet,
    options: ApplyOptions,
) -> Result<RulesReport, RulesError> {
    check_columns(day, rules)?;
    let mut counts = vec![0u64; rules.len()];
    let mut rows_read = 0u64;
    let mut already_scored = 0u64;
    // Resolved against the header of the file as the pass reads it, at its first row.
    let mut plan: Option<Plan> = None;
    day.try_update_severities(
        |row| {
            rows_read += 1;
            // The pass checked the severity before calling: a digit 0..=3.
            if !options.rescore && row.severity()? != 0 {
                already_scored += 1;
                return Ok(None);
            }
            let plan = plan.get_or_insert_with(|| rules.plan.resolved(row.schema()));
            let found = plan
                .first_match(|read| row.field(read.slot))
                .map_err(|(column, problem)| row.error(column, problem))?;
            Ok(found.map(|index| {
                counts[index] += 1;
                plan.severity(index)
            }))
        },
        options.feed_back,
    )?;
    Ok(RulesReport {
        counts: rules
            .rules()
            .iter()
            .zip(counts)
            .map(|(rule, rows)| count(rule, rows))
            .collect(),
        rows_read,
        already_scored,
        fed_back: options.feed_back,
    })
}

fn count(rule: &Rule, rows: u64) -> RuleCount {
    RuleCount {
        rule: rule.to_string(),
        severity: rule.severity(),
        rows,
    }
}

fn check_columns(day: &Day, rules: &RuleSet) -> Result<(), RulesError> {
    for rule in rules.rules() {
        for condition in rule.conditions() {
            if day.schema().index(condition.column()).is_none() {
                return Err(RulesError::MissingColumn {
                    rule: rule.to_string(),
                    column: condition.column().name(),
                    path: day.paths().flow.clone(),
                });
            }
        }
    }
    Ok(())
}
