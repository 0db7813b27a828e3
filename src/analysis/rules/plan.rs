//! Rules compiled for the per-row work: each column read once, each test precomputed.
//!
//! A [`RuleSet`](super::RuleSet) is a list of rules of conditions, convenient to build and to
//! print. Testing a row against it that way reads a column once per condition and decides the
//! column's type and the operator's meaning again for every row. A [`Plan`] does that work
//! once: the columns to read (each once, with how to read it and, once resolved against a
//! file's header, where it is in a row), and the conditions as tests on those values, integer
//! conditions as a range check.

use std::ops::Range;

use super::condition::{Bounds, Parsed, Reading};
use super::{Condition, Rule};
use crate::csv::schema::Schema;
use crate::error::Problem;
use crate::Column;

/// One column some rule reads.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Read {
    /// The column, for error messages and for rows read by column.
    pub column: Column,
    /// The field index in rows of the file the plan is resolved for.
    pub slot: usize,
    reading: Reading,
}

/// One condition, on the value of the read at `value`.
#[derive(Debug, Clone, PartialEq)]
enum Test {
    /// A condition on an integral column, as the range it accepts.
    Integer { value: usize, bounds: Bounds },
    /// Any other condition (addresses, protocols, text, real numbers), tested as it says;
    /// boxed to keep the integer tests, read for every row, small and close together.
    Other {
        value: usize,
        condition: Box<Condition>,
    },
}

impl Test {
    /// True when the row's values pass: `integers` holds the values of integral reads,
    /// `others` those of the other reads, each at its read's index.
    #[inline]
    fn holds(&self, integers: &[i64], others: &[Parsed<'_>]) -> bool {
        match self {
            Test::Integer { value, bounds } => bounds.accept(integers[*value]),
            Test::Other { value, condition } => condition.holds(others[*value]),
        }
    }
}

/// A rule set ready to test rows: see the module documentation.
#[derive(Debug, Clone, PartialEq, Default)]
pub(super) struct Plan {
    /// Every column some rule reads, each once, in first-use order (the order in which a
    /// row's fields are checked, so the first bad one is the one reported).
    reads: Vec<Read>,
    /// The conditions of all rules, rule after rule.
    tests: Vec<Test>,
    /// For each rule, in priority order, its tests and its severity.
    rules: Vec<(Range<usize>, u8)>,
    /// True when every read is of whole numbers (as in the original rules): rows are then
    /// read into integers only.
    integral: bool,
}

impl Plan {
    /// Plans `rules`, with the slots of the reads left as the columns' own numbers until
    /// [`Plan::resolved`] places them in a file.
    pub fn new(rules: &[Rule]) -> Plan {
        let mut plan = Plan::default();
        for rule in rules {
            let start = plan.tests.len();
            for condition in rule.conditions() {
                let value = plan.read_of(condition.column());
                let bounds = condition.integer_bounds();
                plan.tests.push(match bounds {
                    Some(bounds) if plan.reads[value].reading.is_integral() => {
                        Test::Integer { value, bounds }
                    }
                    _ => Test::Other {
                        value,
                        condition: Box::new(condition.clone()),
                    },
                });
            }
            plan.rules.push((start..plan.tests.len(), rule.severity()));
        }
        plan.integral = plan.reads.iter().all(|read| read.reading.is_integral());
        plan
    }

    /// The index of the read of `column`, added if no earlier condition reads it.
    fn read_of(&mut self, column: Column) -> usize {
        if let Some(index) = self.reads.iter().position(|read| read.column == column) {
            return index;
        }
        self.reads.push(Read {
            column,
            slot: column as usize,
            reading: Reading::of(column),
        });
        self.reads.len() - 1
    }

    /// The same plan with each read's slot the column's field index in rows read with
    /// `schema` (past the last field, so read as empty, when the header lacks it).
    pub fn resolved(&self, schema: &Schema) -> Plan {
        let mut plan = self.clone();
        for read in &mut plan.reads {
            read.slot = schema.slot_or_absent(read.column);
        }
        plan
    }

    /// The columns read, each once, in first-use order.
    pub fn reads(&self) -> &[Read] {
        &self.reads
    }

    /// The index of the first rule matching the row whose fields `field` gives. Every read is
    /// made for every row, so a field of the wrong type is an error whichever rule would have
    /// matched.
    #[inline]
    pub fn first_match<'a>(
        &self,
        field: impl Fn(&Read) -> &'a str,
    ) -> Result<Option<usize>, (Column, Problem)> {
        let mut integers = [0i64; Column::ALL.len()];
        if self.integral {
            for (value, read) in integers.iter_mut().zip(&self.reads) {
                *value = read_integer(read, field(read))?;
            }
            return Ok(self.matching_rule(&integers, &[]));
        }
        let mut others = [Parsed::Unread; Column::ALL.len()];
        for (index, read) in self.reads.iter().enumerate() {
            let text = field(read);
            if read.reading.is_integral() {
                integers[index] = read_integer(read, text)?;
            } else {
                others[index] = read
                    .reading
                    .read(text)
                    .map_err(|problem| (read.column, problem))?;
            }
        }
        Ok(self.matching_rule(&integers, &others))
    }

    /// The first rule whose tests all pass on the row's values (see [`Test::holds`]).
    ///
    /// A rule's tests are all run, their results combined without branching: integer tests
    /// are one compare each, and whether `dport <= 1024` holds changes from row to row, so
    /// stopping at the first failing test would cost a mispredicted branch more often than it
    /// saves. (Tests have no effects, so running them all changes no result.)
    #[inline]
    fn matching_rule(&self, integers: &[i64], others: &[Parsed<'_>]) -> Option<usize> {
        self.rules.iter().position(|(tests, _)| {
            self.tests[tests.clone()]
                .iter()
                .fold(true, |all, test| all & test.holds(integers, others))
        })
    }

    /// The severity the rule at `index` gives.
    pub fn severity(&self, index: usize) -> u8 {
        self.rules[index].1
    }
}

/// The number in a field of an integral read, or the column and what is wrong.
#[inline]
fn read_integer(read: &Read, text: &str) -> Result<i64, (Column, Problem)> {
    read.reading
        .integer(text)
        .ok_or_else(|| (read.column, read.reading.problem(text)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::rules::{Comparison, RuleSet};

    /// A row of one field, in the column every test of these tests reads.
    fn first_match(rules: &RuleSet, text: &str) -> Option<usize> {
        rules
            .plan
            .first_match(|_| text)
            .expect("a well-typed field")
    }

    #[test]
    fn integer_tests_decide_like_the_conditions_they_come_from() {
        let limits = [i64::MIN, -1, 0, 1, 1024, i64::MAX];
        let values = [
            i64::MIN,
            i64::MIN + 1,
            -2,
            -1,
            0,
            1,
            2,
            1023,
            1024,
            1025,
            i64::MAX,
        ];
        let comparisons = [
            Comparison::Eq,
            Comparison::Ne,
            Comparison::Lt,
            Comparison::Le,
            Comparison::Gt,
            Comparison::Ge,
        ];
        for comparison in comparisons {
            for limit in limits {
                let condition = Condition::new(Column::Ibyt, comparison, &limit.to_string())
                    .expect("valid condition");
                let rule = Rule::new(vec![condition.clone()], 1).expect("valid rule");
                let rules = RuleSet::new(vec![rule]);
                for value in values {
                    let text = value.to_string();
                    let expected = condition.matches(&text).expect("an integer");
                    assert_eq!(
                        first_match(&rules, &text) == Some(0),
                        expected,
                        "ibyt {} {limit} on {value}",
                        comparison.symbol()
                    );
                }
            }
        }
    }

    #[test]
    fn rules_mixing_integers_with_other_columns_keep_their_order() {
        let rules = RuleSet::parse(
            "proto == 6 and proto != 17 -> 1\nproto == TCP -> 2\nproto >= 1 -> 3\n",
            "t",
        )
        .expect("valid rules");
        assert!(!rules.plan.integral);
        assert_eq!(first_match(&rules, "6"), Some(0));
        assert_eq!(first_match(&rules, "TCP"), Some(1));
        assert_eq!(first_match(&rules, "17"), Some(2));
        assert_eq!(first_match(&rules, "ICMP"), None);
    }

    #[test]
    fn the_first_bad_field_in_reading_order_is_the_one_reported() {
        let rules = RuleSet::parse("ibyt == 1 and dport == 2 and srcIP in 10.0.0.0/8 -> 1", "t")
            .expect("valid rule");
        let texts = |read: &Read| match read.column {
            Column::Ibyt => "1",
            Column::Dport => "99999",
            _ => "not an address",
        };
        assert_eq!(
            rules.plan.first_match(texts),
            Err((Column::Dport, Problem::NotAPort("99999".into())))
        );
    }
}
