//! Reputation as Spot writes it, read as one level an analyst takes in at a glance.
//!
//! Spot's OA step asks reputation services about every address of the day and writes their
//! answers into the flow file: `srcIP_rep` and `dstIP_rep` in 20-column days; `gtiSrcRep`,
//! `gtiDstRep`, `norseSrcRep` and `norseDstRep` in 22-column ones. An answer reads
//! `service:label:value`, sometimes followed by `:categories`, and the answers of several
//! services are joined by `::` (`gti:High:3::fb:UNKNOWN:-1`). The value is Spot's scale
//! (`spot-oa/oa/components/reputation/README.md`): -1 unverified, 0 none, 1 low, 2 medium,
//! 3 high. McAfee GTI answers `gti:Minimal:1`, `gti:Unverified:-1`, `gti:Medium:2` or
//! `gti:High:3`; Facebook ThreatExchange `fb:UNKNOWN:-1`, `fb:NON_MALICIOUS:0`,
//! `fb:SUSPICIOUS:2` or `fb:MALICIOUS:3`. An empty field means no service was asked.
//!
//! The level is the highest value any service gave, as Spot's own UI colours an address:
//!
//! | values        | level     |
//! |---------------|-----------|
//! | 3 (or more)   | high      |
//! | 2             | medium    |
//! | 1 or 0        | low (0: known and harmless) |
//! | -1, or no whole number in the answer | unknown |
//! | empty field   | no level  |
//!
//! The value is the first part after the service name that is a whole number, so answers
//! written without a service name (`HIGH:3`) read the same.

use std::fmt;

/// How risky the reputation services found an address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ReputationLevel {
    /// Every answer was unverified or unreadable.
    Unknown,
    /// Highest value 0 or 1.
    Low,
    /// Highest value 2.
    Medium,
    /// Highest value 3.
    High,
}

impl ReputationLevel {
    /// The level of the fields of one address (several columns in 22-column days); `None`
    /// when every field is empty.
    pub fn of<'a>(fields: impl IntoIterator<Item = &'a str>) -> Option<ReputationLevel> {
        fields
            .into_iter()
            .flat_map(|field| field.split("::"))
            .map(str::trim)
            .filter(|answer| !answer.is_empty())
            .map(level_of_answer)
            .max()
    }

    /// The level in one word: `high`, `medium`, `low`, `unknown`.
    pub fn word(self) -> &'static str {
        match self {
            ReputationLevel::High => "high",
            ReputationLevel::Medium => "medium",
            ReputationLevel::Low => "low",
            ReputationLevel::Unknown => "unknown",
        }
    }
}

impl fmt::Display for ReputationLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.word())
    }
}

/// The level of one service's answer.
fn level_of_answer(answer: &str) -> ReputationLevel {
    let value = answer
        .split(':')
        .skip(1)
        .find_map(|part| part.trim().parse::<i64>().ok());
    match value {
        Some(3..) => ReputationLevel::High,
        Some(2) => ReputationLevel::Medium,
        Some(0 | 1) => ReputationLevel::Low,
        _ => ReputationLevel::Unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ReputationLevel::*;

    #[test]
    fn spot_services_answers_read_as_levels() {
        for (field, level) in [
            ("gti:High:3", High),
            ("gti:Medium:2", Medium),
            ("gti:Minimal:1", Low),
            ("gti:Unverified:-1", Unknown),
            ("fb:MALICIOUS:3", High),
            ("fb:SUSPICIOUS:2", Medium),
            ("fb:NON_MALICIOUS:0", Low),
            ("fb:UNKNOWN:-1", Unknown),
            // GTI with categories, and the answers of two services.
            ("gti:High:3:Malicious Sites|Security", High),
            ("gti:Minimal:1::fb:SUSPICIOUS:2", Medium),
            ("fb:UNKNOWN:-1::gti:Minimal:1", Low),
            // Without a service name, or without a value.
            ("HIGH:3::suspicious", High),
            ("UNVERIFIED:-1", Unknown),
            ("suspicious", Unknown),
        ] {
            assert_eq!(ReputationLevel::of([field]), Some(level), "{field}");
        }
        assert_eq!(ReputationLevel::of([""]), None);
        assert_eq!(ReputationLevel::of([" ", ""]), None);
    }

    #[test]
    fn the_highest_level_of_several_columns_wins() {
        // A 22-column day: GTI and Norse for one address.
        assert_eq!(
            ReputationLevel::of(["gti:Minimal:1", "norse:High:3"]),
            Some(High)
        );
        assert_eq!(
            ReputationLevel::of(["", "gti:Unverified:-1"]),
            Some(Unknown)
        );
        assert_eq!(High.to_string(), "high");
    }
}
