//! Rules: severities given to a whole day by conditions on named columns.
//!
//! The original notebook's `set_rules` held integer comparisons on column positions and
//! rewrote the file once per rule. A [`Rule`] here is a list of typed [`Condition`]s on named
//! columns and a severity; a [`RuleSet`] is applied in one pass through the engine's locked,
//! crash-safe write path (see [`apply`]), the first matching rule deciding a row.
//!
//! Rules are written one per line (see [`parse`] for the format):
//!
//! ```
//! use flow_edge::analysis::rules::RuleSet;
//! let rules = RuleSet::parse("dport <= 1024 and ibyt <= 54 -> 2\nsrcIP in 10.0.0.0/8 -> 3\n", "my.rules")?;
//! assert_eq!(rules.len(), 2);
//! assert_eq!(rules.rules()[1].to_string(), "srcIP in 10.0.0.0/8 -> 3");
//! # Ok::<(), flow_edge::analysis::rules::RuleSyntaxError>(())
//! ```

pub mod apply;
mod condition;
pub mod parse;
mod plan;

use std::fmt;

use crate::error::Problem;
use crate::Column;
use plan::Plan;

pub use apply::{apply_rules, ApplyOptions, RuleCount, RulesError, RulesReport};
pub use condition::{Comparison, Condition, ConditionError, ValueKind};
pub use parse::RuleSyntaxError;

/// The rules the original notebook applied, one per line, in its order: the documented example
/// of the rules format (`src/analysis/rules/original.rules`).
pub const ORIGINAL_RULES: &str = include_str!("original.rules");

/// The rule the original defined but never applied (its variables were overwritten before the
/// call); kept for analysts who want it, off unless added explicitly.
pub const ORIGINAL_UNAPPLIED_RULE: &str = "dport <= 1024 and ipkt == 2 and ibyt == 104 -> 2";

/// Access to a row's fields by column; the engine's rows implement it, and so can test data.
pub trait Fields {
    /// The field's text (unquoted), empty when the file lacks the column.
    fn field(&self, column: Column) -> &str;
}

/// Conditions that must all hold, and the severity they give.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    conditions: Vec<Condition>,
    severity: u8,
}

impl Rule {
    /// A rule giving `severity` (1 high, 2 medium, 3 low) to rows meeting every condition.
    pub fn new(conditions: Vec<Condition>, severity: u8) -> Result<Rule, ConditionError> {
        if !(1..=3).contains(&severity) {
            return Err(ConditionError(format!(
                "severity {severity} is not 1, 2 or 3"
            )));
        }
        if conditions.is_empty() {
            return Err(ConditionError(
                "a rule needs at least one condition".to_string(),
            ));
        }
        Ok(Rule {
            conditions,
            severity,
        })
    }

    /// The rule the original defined but never applied ([`ORIGINAL_UNAPPLIED_RULE`]).
    pub fn original_unapplied() -> Rule {
        // A constant of this crate, checked by a unit test, not user input.
        let mut rules = parse::parse_rules(ORIGINAL_UNAPPLIED_RULE, "built-in rules")
            .expect("the built-in rule parses");
        rules.remove(0)
    }

    /// The severity this rule gives.
    pub fn severity(&self) -> u8 {
        self.severity
    }

    /// The conditions, all of which must hold.
    pub fn conditions(&self) -> &[Condition] {
        &self.conditions
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, condition) in self.conditions.iter().enumerate() {
            if index > 0 {
                f.write_str(" and ")?;
            }
            write!(f, "{condition}")?;
        }
        write!(f, " -> {}", self.severity)
    }
}

/// Rules in the order they are tried; the first that matches a row decides it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RuleSet {
    rules: Vec<Rule>,
    /// Every column some rule reads, each once, in first-use order.
    columns: Vec<Column>,
    /// The rules compiled for testing rows, reads placed by column (see [`plan`]).
    plan: Plan,
}

impl RuleSet {
    /// Rules in priority order.
    pub fn new(rules: Vec<Rule>) -> RuleSet {
        let plan = Plan::new(&rules);
        let columns = plan.reads().iter().map(|read| read.column).collect();
        RuleSet {
            rules,
            columns,
            plan,
        }
    }

    /// Reads rules in the text format of [`parse`]; `origin` names the file in errors.
    pub fn parse(text: &str, origin: &str) -> Result<RuleSet, RuleSyntaxError> {
        parse::parse_rules(text, origin).map(RuleSet::new)
    }

    /// Reads a rules file.
    pub fn load(path: &std::path::Path) -> Result<RuleSet, RuleSyntaxError> {
        let origin = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| RuleSyntaxError {
            origin: origin.clone(),
            line: 0,
            column: 0,
            message: format!("cannot read the rules file: {e}"),
        })?;
        Self::parse(&text, &origin)
    }

    /// The three rules the original notebook applied ([`ORIGINAL_RULES`]).
    pub fn original() -> RuleSet {
        // The text is a constant of this crate, checked by a unit test, not user input.
        Self::parse(ORIGINAL_RULES, "built-in rules").expect("the built-in rules parse")
    }

    /// The original's three rules followed by the one it defined but never applied.
    pub fn original_with_unapplied() -> RuleSet {
        let mut rules = Self::original().rules;
        rules.push(Rule::original_unapplied());
        RuleSet::new(rules)
    }

    /// The rules, in priority order.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// Number of rules.
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// True when there is no rule.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// The index of the first rule matching the row. Every column a rule reads is read for
    /// every row, so a field of the wrong type is an error whichever rule would have matched.
    pub fn first_match(&self, row: &impl Fields) -> Result<Option<usize>, (Column, Problem)> {
        self.plan.first_match(|read| row.field(read.column))
    }

    /// Every column some rule reads, each once.
    pub fn columns(&self) -> &[Column] {
        &self.columns
    }
}

impl fmt::Display for RuleSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for rule in &self.rules {
            writeln!(f, "{rule}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A row of test data: pairs of column and text.
    struct TestRow(Vec<(Column, &'static str)>);

    impl Fields for TestRow {
        fn field(&self, column: Column) -> &str {
            self.0
                .iter()
                .find(|(c, _)| *c == column)
                .map(|(_, v)| *v)
                .unwrap_or("")
        }
    }

    fn flow(
        sport: &'static str,
        dport: &'static str,
        ipkt: &'static str,
        ibyt: &'static str,
    ) -> TestRow {
        TestRow(vec![
            (Column::SrcIp, "10.1.2.3"),
            (Column::DstIp, "2001:db8::7"),
            (Column::Sport, sport),
            (Column::Dport, dport),
            (Column::Ipkt, ipkt),
            (Column::Ibyt, ibyt),
            (Column::Proto, "TCP"),
            (Column::LdaScore, "1e-7"),
        ])
    }

    #[test]
    fn the_original_rules_decide_like_the_notebook_did() {
        let rules = RuleSet::original();
        assert_eq!(rules.len(), 3);
        assert_eq!(
            rules.first_match(&flow("5000", "80", "1", "54")),
            Ok(Some(0))
        );
        assert_eq!(
            rules.first_match(&flow("5000", "80", "3", "152")),
            Ok(Some(1))
        );
        assert_eq!(
            rules.first_match(&flow("0", "443", "9", "9000")),
            Ok(Some(2))
        );
        assert_eq!(rules.first_match(&flow("0", "1024", "9", "9000")), Ok(None));
        assert_eq!(rules.first_match(&flow("5000", "80", "2", "104")), Ok(None));
        let all = RuleSet::original_with_unapplied();
        assert_eq!(
            all.first_match(&flow("5000", "80", "2", "104")),
            Ok(Some(3))
        );
    }

    #[test]
    fn the_example_file_keeps_the_unapplied_rule_commented_out() {
        let commented = format!("# {ORIGINAL_UNAPPLIED_RULE}");
        assert!(ORIGINAL_RULES.lines().any(|line| line == commented));
    }

    #[test]
    fn values_of_the_wrong_type_are_refused() {
        for (column, comparison, value, message) in [
            (
                Column::Dport,
                Comparison::Le,
                "http",
                "dport <= needs a whole number, not \"http\"",
            ),
            (
                Column::Dport,
                Comparison::In,
                "10.0.0.0/8",
                "dport cannot be compared with in; numbers take ==, !=, <, <=, > and >=",
            ),
            (
                Column::SrcIp,
                Comparison::Eq,
                "10.0.0.0/8",
                "srcIP == compares one address; use `srcIP in 10.0.0.0/8` for a network",
            ),
            (
                Column::SrcIp,
                Comparison::Lt,
                "10.0.0.1",
                "srcIP cannot be compared with <; use ==, !=, in or not in",
            ),
            (
                Column::LdaScore,
                Comparison::Lt,
                "NaN",
                "lda_score < needs a finite number, not \"NaN\"",
            ),
            (
                Column::Proto,
                Comparison::Lt,
                "TCP",
                "proto < needs a protocol number, not \"TCP\"",
            ),
            (
                Column::SrcGeo,
                Comparison::Gt,
                "US",
                "srcGeo cannot be compared with >; text columns take == and !=",
            ),
        ] {
            let err = Condition::new(column, comparison, value).expect_err(message);
            assert_eq!(err.to_string(), message);
        }
        assert!(Rule::new(vec![], 2).is_err());
        let c = Condition::new(Column::Dport, Comparison::Eq, "80").expect("valid");
        assert_eq!(
            Rule::new(vec![c], 4).expect_err("bad severity").to_string(),
            "severity 4 is not 1, 2 or 3"
        );
    }

    #[test]
    fn fields_that_are_not_numbers_are_errors_for_any_rule_reading_them() {
        let c = Condition::new(Column::Dport, Comparison::Le, "1024").expect("valid");
        assert_eq!(c.matches("80"), Ok(true));
        assert_eq!(c.matches(""), Err(Problem::NotAPort(String::new())));
        assert_eq!(c.matches("80x"), Err(Problem::NotAPort("80x".into())));
        assert_eq!(c.matches("70000"), Err(Problem::NotAPort("70000".into())));
        let bytes = Condition::new(Column::Ibyt, Comparison::Eq, "1").expect("valid");
        assert_eq!(bytes.matches("-1"), Ok(false));
        assert_eq!(
            bytes.matches("1.5"),
            Err(Problem::NotAnInteger("1.5".into()))
        );
        // dport does not match, but ibyt is still read: the error does not hide behind rule order.
        let rules = RuleSet::parse("dport <= 1024 and ibyt <= 54 -> 2", "t").expect("valid");
        assert_eq!(
            rules.first_match(&flow("5000", "8080", "1", "lots")),
            Err((Column::Ibyt, Problem::NotAnInteger("lots".into())))
        );
    }
}
