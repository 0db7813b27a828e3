//! Conditions: one typed test on one column, and the reading of a field as its column's type.

use std::fmt;
use std::net::IpAddr;

use crate::analysis::cidr::{parse_network, IpNet};
use crate::error::Problem;
use crate::Column;

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparison {
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `in` (network membership)
    In,
    /// `not in`
    NotIn,
}

impl Comparison {
    /// The operator as written in a rules file.
    pub fn symbol(self) -> &'static str {
        match self {
            Comparison::Eq => "==",
            Comparison::Ne => "!=",
            Comparison::Lt => "<",
            Comparison::Le => "<=",
            Comparison::Gt => ">",
            Comparison::Ge => ">=",
            Comparison::In => "in",
            Comparison::NotIn => "not in",
        }
    }

    fn holds<T: PartialOrd>(self, left: T, right: T) -> bool {
        match self {
            Comparison::Eq => left == right,
            Comparison::Ne => left != right,
            Comparison::Lt => left < right,
            Comparison::Le => left <= right,
            Comparison::Gt => left > right,
            Comparison::Ge => left >= right,
            Comparison::In | Comparison::NotIn => false,
        }
    }
}

/// What kind of values a column holds, which decides the operators a rule may use on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueKind {
    /// Whole numbers: `sev`, ports, `ipkt`, `ibyt`, `rank`.
    Integer,
    /// Real numbers: `lda_score`.
    Real,
    /// Addresses: `srcIP`, `dstIP`.
    Address,
    /// A protocol: a number in some exports, a name (`TCP`) in others.
    Protocol,
    /// Anything else, compared as text.
    Text,
}

impl ValueKind {
    /// The kind of a column.
    pub fn of(column: Column) -> ValueKind {
        match column {
            Column::Sev
            | Column::Sport
            | Column::Dport
            | Column::Ipkt
            | Column::Ibyt
            | Column::Rank => ValueKind::Integer,
            Column::LdaScore => ValueKind::Real,
            Column::SrcIp | Column::DstIp => ValueKind::Address,
            Column::Proto => ValueKind::Protocol,
            _ => ValueKind::Text,
        }
    }
}

/// The typed right-hand side of a condition, checked against the column's kind when built.
#[derive(Debug, Clone, PartialEq)]
enum Operand {
    Integer(i64),
    Real(f64),
    Network(IpNet),
    Text(String),
}

/// One test on one column, such as `dport <= 1024` or `srcIP in 10.0.0.0/8`.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    column: Column,
    comparison: Comparison,
    operand: Operand,
    written: String,
}

/// Why a condition cannot be built: the operator or the value does not suit the column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConditionError(pub String);

impl fmt::Display for ConditionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConditionError {}

/// The whole numbers an integer condition accepts: those in `low..=high` when `inside`, those
/// outside it otherwise. `low <= high` always; an empty range is the full one, outside.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Bounds {
    low: i64,
    /// `high - low`, as the unsigned width of the range.
    width: u64,
    inside: bool,
}

impl Bounds {
    fn new(low: i64, high: i64, inside: bool) -> Bounds {
        Bounds {
            low,
            width: high.wrapping_sub(low) as u64,
            inside,
        }
    }

    /// Accepts no number (`< i64::MIN`, `> i64::MAX`).
    fn nothing() -> Bounds {
        Bounds::new(i64::MIN, i64::MAX, false)
    }

    /// True when a field holding `value` passes the test: one subtraction and one unsigned
    /// compare, without a branch, however the condition was written.
    #[inline]
    pub fn accept(self, value: i64) -> bool {
        (value.wrapping_sub(self.low) as u64 <= self.width) == self.inside
    }
}

impl Condition {
    /// Builds `column comparison value`, checking that the value has the column's type and
    /// that the operator makes sense for it.
    pub fn new(
        column: Column,
        comparison: Comparison,
        value: &str,
    ) -> Result<Condition, ConditionError> {
        let name = column.name();
        let wrong = |what: &str| {
            ConditionError(format!(
                "{name} {} needs {what}, not {value:?}",
                comparison.symbol()
            ))
        };
        let ordered = !matches!(comparison, Comparison::In | Comparison::NotIn);
        let equality = matches!(comparison, Comparison::Eq | Comparison::Ne);
        let operand = match ValueKind::of(column) {
            ValueKind::Integer if ordered => {
                Operand::Integer(value.parse().map_err(|_| wrong("a whole number"))?)
            }
            ValueKind::Real if ordered => {
                let number: f64 = value.parse().map_err(|_| wrong("a number"))?;
                if !number.is_finite() {
                    return Err(wrong("a finite number"));
                }
                Operand::Real(number)
            }
            ValueKind::Protocol if ordered => match value.parse::<i64>() {
                Ok(number) => Operand::Integer(number),
                Err(_) if equality => Operand::Text(value.to_string()),
                Err(_) => return Err(wrong("a protocol number")),
            },
            ValueKind::Address if equality => {
                let addr: IpAddr = value.parse().map_err(|_| {
                    if value.contains('/') {
                        ConditionError(format!(
                            "{name} {} compares one address; use `{name} in {value}` for a network",
                            comparison.symbol()
                        ))
                    } else {
                        wrong("an IPv4 or IPv6 address")
                    }
                })?;
                Operand::Network(IpNet::from(addr))
            }
            ValueKind::Address if !ordered => Operand::Network(
                parse_network(value)
                    .map_err(|e| ConditionError(format!("{name} {}: {e}", comparison.symbol())))?,
            ),
            ValueKind::Text if equality => Operand::Text(value.to_string()),
            _ => {
                return Err(ConditionError(format!(
                    "{name} cannot be compared with {}; {}",
                    comparison.symbol(),
                    match ValueKind::of(column) {
                        ValueKind::Address => "use ==, !=, in or not in",
                        ValueKind::Text => "text columns take == and !=",
                        _ => "numbers take ==, !=, <, <=, > and >=",
                    }
                )))
            }
        };
        Ok(Condition {
            column,
            comparison,
            operand,
            written: value.to_string(),
        })
    }

    /// The column tested.
    pub fn column(&self) -> Column {
        self.column
    }

    /// For a test of a whole number (`dport <= 1024`, `proto == 6`), the values it accepts as
    /// one closed range, and whether a value must lie inside (`!=` wants it outside). Lets a
    /// planned rule test integers with one compare whatever the operator.
    pub(super) fn integer_bounds(&self) -> Option<Bounds> {
        let Operand::Integer(limit) = self.operand else {
            return None;
        };
        Some(match self.comparison {
            Comparison::Eq => Bounds::new(limit, limit, true),
            Comparison::Ne => Bounds::new(limit, limit, false),
            Comparison::Lt => match limit.checked_sub(1) {
                Some(high) => Bounds::new(i64::MIN, high, true),
                None => Bounds::nothing(),
            },
            Comparison::Le => Bounds::new(i64::MIN, limit, true),
            Comparison::Gt => match limit.checked_add(1) {
                Some(low) => Bounds::new(low, i64::MAX, true),
                None => Bounds::nothing(),
            },
            Comparison::Ge => Bounds::new(limit, i64::MAX, true),
            // Never built: `Condition::new` refuses `in` on numbers.
            Comparison::In | Comparison::NotIn => return None,
        })
    }

    /// True when the field's value passes the test.
    pub(super) fn holds(&self, value: Parsed<'_>) -> bool {
        match (&self.operand, value) {
            (Operand::Integer(limit), Parsed::Integer(v) | Parsed::Protocol(_, Some(v))) => {
                self.comparison.holds(v, *limit)
            }
            (Operand::Real(limit), Parsed::Real(v)) => self.comparison.holds(v, *limit),
            (Operand::Network(net), Parsed::Address(addr)) => {
                let inside = addr.is_some_and(|addr| net.contains(&addr));
                match self.comparison {
                    Comparison::Eq | Comparison::In => inside,
                    _ => !inside,
                }
            }
            (Operand::Text(text), Parsed::Text(v) | Parsed::Protocol(v, _)) => {
                match self.comparison {
                    Comparison::Eq => v == text,
                    _ => v != text,
                }
            }
            // A protocol name against a protocol number never matches.
            _ => false,
        }
    }

    /// True when the text of a row's field passes the test; a field that is not of the
    /// column's type (a port that is not a number) is an error.
    pub fn matches(&self, field: &str) -> Result<bool, Problem> {
        Ok(self.holds(Parsed::read(self.column, field)?))
    }
}

/// A field read as its column's type, once per row whatever the number of conditions on it.
#[derive(Debug, Clone, Copy)]
pub(super) enum Parsed<'a> {
    Unread,
    Integer(i64),
    Real(f64),
    /// `None` for text that is not an address (such rows match no address condition).
    Address(Option<IpAddr>),
    /// The text and, when it is one, its number.
    Protocol(&'a str, Option<i64>),
    Text(&'a str),
}

impl<'a> Parsed<'a> {
    pub(super) fn read(column: Column, text: &'a str) -> Result<Parsed<'a>, Problem> {
        Reading::of(column).read(text)
    }
}

/// How a column's fields are read: its [`ValueKind`], with ports apart for their range and
/// their error. Decided once per column when rules are planned, so that reading a row's field
/// is one `match` on this instead of matches on the column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Reading {
    Port,
    Integer,
    Real,
    Address,
    Protocol,
    Text,
}

impl Reading {
    /// How the fields of `column` are read.
    pub(super) fn of(column: Column) -> Reading {
        match (ValueKind::of(column), column) {
            (ValueKind::Integer, Column::Sport | Column::Dport) => Reading::Port,
            (ValueKind::Integer, _) => Reading::Integer,
            (ValueKind::Real, _) => Reading::Real,
            (ValueKind::Address, _) => Reading::Address,
            (ValueKind::Protocol, _) => Reading::Protocol,
            (ValueKind::Text, _) => Reading::Text,
        }
    }

    /// True for columns of whole numbers, read with [`Reading::integer`].
    pub(super) fn is_integral(self) -> bool {
        matches!(self, Reading::Port | Reading::Integer)
    }

    /// The number in a field of an integral column, `None` when the field is not one (see
    /// [`Reading::problem`] for why).
    #[inline]
    pub(super) fn integer(self, text: &str) -> Option<i64> {
        let value = parse_integer(text)?;
        match self {
            Reading::Port if !(0..=65535).contains(&value) => None,
            _ => Some(value),
        }
    }

    /// The field's value; a field that is not of the column's type is a [`Problem`].
    pub(super) fn read(self, text: &str) -> Result<Parsed<'_>, Problem> {
        Ok(match self {
            Reading::Port | Reading::Integer => match self.integer(text) {
                Some(value) => Parsed::Integer(value),
                None => return Err(self.problem(text)),
            },
            Reading::Real => match text.parse::<f64>() {
                Ok(value) => Parsed::Real(value),
                Err(_) => return Err(self.problem(text)),
            },
            Reading::Address => Parsed::Address(text.parse().ok()),
            Reading::Protocol => Parsed::Protocol(text, parse_integer(text)),
            Reading::Text => Parsed::Text(text),
        })
    }

    /// What is wrong with a field this reading refused. Kept out of the per-row path: rows
    /// with a bad field stop the pass, so this runs at most once.
    #[cold]
    pub(super) fn problem(self, text: &str) -> Problem {
        match self {
            Reading::Port => Problem::NotAPort(text.to_string()),
            Reading::Real => Problem::NotANumber(text.to_string()),
            _ => Problem::NotAnInteger(text.to_string()),
        }
    }
}

/// Integers as the flow files spell them, without the general parser's overhead on the hot
/// path: optional minus sign, then ASCII digits.
#[inline]
fn parse_integer(text: &str) -> Option<i64> {
    let (negative, digits) = match text.as_bytes() {
        [b'-', rest @ ..] => (true, rest),
        bytes => (false, bytes),
    };
    if digits.is_empty() || digits.len() > 18 {
        return parse_long_integer(text);
    }
    let mut value: i64 = 0;
    for &b in digits {
        if !b.is_ascii_digit() {
            return None;
        }
        value = value * 10 + i64::from(b - b'0');
    }
    Some(if negative { -value } else { value })
}

/// Integers [`parse_integer`] leaves to the standard parser: empty, or more digits than fit
/// an `i64` for sure. Out of line so the short fields of every row take the inlined path.
#[cold]
fn parse_long_integer(text: &str) -> Option<i64> {
    text.parse().ok()
}

impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let needs_quotes = self.written.is_empty()
            || self
                .written
                .chars()
                .any(|c| c.is_whitespace() || matches!(c, '"' | '#'));
        write!(f, "{} {} ", self.column.name(), self.comparison.symbol())?;
        if needs_quotes {
            write!(f, "\"{}\"", self.written.replace('"', "\"\""))
        } else {
            f.write_str(&self.written)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(column: Column, comparison: Comparison, value: &str, field: &str) -> bool {
        Condition::new(column, comparison, value)
            .expect("valid condition")
            .matches(field)
            .expect("a well-typed field")
    }

    #[test]
    fn addresses_match_by_network_and_by_value() {
        assert!(check(
            Column::SrcIp,
            Comparison::In,
            "10.0.0.0/8",
            "10.1.2.3"
        ));
        assert!(!check(
            Column::SrcIp,
            Comparison::NotIn,
            "10.0.0.0/8",
            "10.1.2.3"
        ));
        assert!(check(
            Column::DstIp,
            Comparison::In,
            "2001:db8::/32",
            "2001:db8::7"
        ));
        assert!(check(
            Column::DstIp,
            Comparison::Eq,
            "2001:0db8:0::7",
            "2001:db8::7"
        ));
        assert!(!check(
            Column::DstIp,
            Comparison::In,
            "10.0.0.0/8",
            "2001:db8::7"
        ));
        assert!(check(
            Column::DstIp,
            Comparison::Ne,
            "10.0.0.1",
            "not an address"
        ));
        assert!(check(Column::LdaScore, Comparison::Lt, "0.001", "1e-7"));
    }

    #[test]
    fn protocol_names_and_numbers_each_match_their_own_kind() {
        assert!(check(Column::Proto, Comparison::Eq, "TCP", "TCP"));
        assert!(!check(Column::Proto, Comparison::Eq, "6", "TCP"));
        assert!(check(Column::Proto, Comparison::Eq, "6", "6"));
        assert!(check(Column::Proto, Comparison::Ge, "6", "17"));
    }

    #[test]
    fn integers_read_like_the_standard_parser_reads_them() {
        for text in [
            "0",
            "-1",
            "80",
            "9223372036854775807",
            "123456789012345678901",
            "",
            "-",
            "8x",
            "1.5",
        ] {
            assert_eq!(parse_integer(text), text.parse::<i64>().ok(), "{text:?}");
        }
    }
}
