//! One line of a context file: the optional header, or an entry `place,name`.
//!
//! Fields are separated by commas; spaces and tabs around a field are dropped (Spot's install
//! guide writes `10.192.180.150, AnyMachine`); a field may be quoted (`"Mail, relay"`, with
//! `""` for a quote inside), also after such spaces. Only the first two fields are read.
//! A quoted field cannot span lines: a name is a label, and one bad quote must not swallow
//! the lines after it.

use std::borrow::Cow;
use std::net::IpAddr;

use super::warning::LineProblem;
use crate::analysis::cidr::{parse_network, IpNet};

/// The names of the two columns, for warnings about one of them.
pub(super) const COLUMNS: [&str; 2] = ["ip", "name"];

/// What the first field of an entry covers: `first..=last`, as numbers of one family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Place {
    V4 { first: u32, last: u32 },
    V6 { first: u128, last: u128 },
}

/// A line that is not blank.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Line<'a> {
    /// `ip,name` or `srcIP,name` (any case), allowed as the first line only.
    Header,
    /// An address, network or range and its name.
    Entry { place: Place, name: Cow<'a, str> },
}

/// A problem, with the 1-based column it is in (`None`: the line as a whole).
pub(super) type Fault = (Option<usize>, LineProblem);

/// Reads a line that is not blank; `first` says whether it is the first such line of the
/// file, the only one that may be the header.
pub(super) fn read(text: &str, first: bool) -> Result<Line<'_>, Fault> {
    let (place_text, rest) = field(text).map_err(|problem| (Some(1), problem))?;
    let name = match rest {
        Some(rest) => Some(field(rest).map_err(|problem| (Some(2), problem))?.0),
        None => None,
    };
    let is_header = |name: &Option<Cow<'_, str>>| {
        (place_text.eq_ignore_ascii_case("ip") || place_text.eq_ignore_ascii_case("srcIP"))
            && name
                .as_deref()
                .is_some_and(|n| n.eq_ignore_ascii_case("name"))
    };
    if first && is_header(&name) {
        return Ok(Line::Header);
    }
    let place = place(&place_text).map_err(|problem| match problem {
        LineProblem::Network(_) if first && !looks_like_an_address(&place_text) => (
            None,
            LineProblem::NotHeaderNorEntry {
                found: text.to_string(),
            },
        ),
        problem => (Some(1), problem),
    })?;
    match name {
        Some(name) if !name.is_empty() => Ok(Line::Entry { place, name }),
        _ => Err((Some(2), LineProblem::NoName)),
    }
}

/// True when a text could be meant as an address (it has a digit, a dot or a colon), so a
/// first line without any reads as a header gone wrong rather than a bad address.
fn looks_like_an_address(text: &str) -> bool {
    text.bytes()
        .any(|b| b.is_ascii_digit() || b == b'.' || b == b':')
}

/// The first field of `text`, trimmed and unquoted, and what follows its comma (if any).
fn field(text: &str) -> Result<(Cow<'_, str>, Option<&str>), LineProblem> {
    let text = text.trim_start_matches([' ', '\t']);
    let Some(mut quoted) = text.strip_prefix('"') else {
        return Ok(match text.split_once(',') {
            Some((value, rest)) => (Cow::Borrowed(value.trim_end()), Some(rest)),
            None => (Cow::Borrowed(text.trim_end()), None),
        });
    };
    let mut value = String::new();
    loop {
        let Some(at) = quoted.find('"') else {
            return Err(LineProblem::UnclosedQuote);
        };
        value.push_str(&quoted[..at]);
        let after = &quoted[at + 1..];
        if let Some(doubled) = after.strip_prefix('"') {
            value.push('"');
            quoted = doubled;
            continue;
        }
        let after = after.trim_start_matches([' ', '\t']);
        return match after.strip_prefix(',') {
            Some(rest) => Ok((Cow::Owned(value), Some(rest))),
            None if after.is_empty() => Ok((Cow::Owned(value), None)),
            None => Err(LineProblem::TextAfterQuote),
        };
    }
}

/// Reads an address, a CIDR network or an inclusive range `first-last`.
fn place(text: &str) -> Result<Place, LineProblem> {
    let Some((first, last)) = text.split_once('-') else {
        return parse_network(text)
            .map(|net| match net {
                IpNet::V4(net) => Place::V4 {
                    first: net.network().into(),
                    last: net.broadcast().into(),
                },
                IpNet::V6(net) => Place::V6 {
                    first: net.network().into(),
                    last: net.broadcast().into(),
                },
            })
            .map_err(LineProblem::Network);
    };
    let end = |end: &str| {
        end.trim()
            .parse::<IpAddr>()
            .map_err(|_| LineProblem::RangeEnd {
                range: text.to_string(),
                end: end.trim().to_string(),
            })
    };
    let backwards = || LineProblem::RangeBackwards {
        range: text.to_string(),
    };
    match (end(first)?, end(last)?) {
        (IpAddr::V4(first), IpAddr::V4(last)) if first <= last => Ok(Place::V4 {
            first: first.into(),
            last: last.into(),
        }),
        (IpAddr::V6(first), IpAddr::V6(last)) if first <= last => Ok(Place::V6 {
            first: first.into(),
            last: last.into(),
        }),
        _ => Err(backwards()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(text: &str) -> (Place, String) {
        match read(text, false) {
            Ok(Line::Entry { place, name }) => (place, name.into_owned()),
            other => panic!("{text:?} read as {other:?}"),
        }
    }

    fn v4(first: &str, last: &str) -> Place {
        let number = |t: &str| u32::from(t.parse::<std::net::Ipv4Addr>().unwrap());
        Place::V4 {
            first: number(first),
            last: number(last),
        }
    }

    #[test]
    fn fields_are_trimmed_and_may_be_quoted_after_spaces() {
        let host = v4("10.192.180.150", "10.192.180.150");
        assert_eq!(
            entry("10.192.180.150, AnyMachine"),
            (host, "AnyMachine".into())
        );
        assert_eq!(
            entry("\t10.192.180.150 ,  \"Mail, \"\"relay\"\"\" , ignored,"),
            (host, "Mail, \"relay\"".into())
        );
        assert_eq!(
            entry("\"10.0.0.0/8\",Corp"),
            (v4("10.0.0.0", "10.255.255.255"), "Corp".into())
        );
        assert_eq!(
            entry("10.0.0.1 - 10.0.0.9,Lab"),
            (v4("10.0.0.1", "10.0.0.9"), "Lab".into())
        );
        assert_eq!(
            entry("::/0,Everything v6"),
            (
                Place::V6 {
                    first: 0,
                    last: u128::MAX
                },
                "Everything v6".into()
            )
        );
    }

    #[test]
    fn the_header_is_recognised_on_the_first_line_only() {
        for header in [
            "ip,name",
            "srcIP, name",
            "SRCIP,Name,notes",
            " \"ip\" , \"name\"",
        ] {
            assert_eq!(read(header, true), Ok(Line::Header), "{header}");
        }
        assert_eq!(
            read("ip,name", false),
            Err((
                Some(1),
                LineProblem::Network(crate::analysis::cidr::NetError::NotAnAddress("ip".into()))
            ))
        );
        assert_eq!(
            read("address,label", true),
            Err((
                None,
                LineProblem::NotHeaderNorEntry {
                    found: "address,label".into()
                }
            ))
        );
    }

    #[test]
    fn bad_fields_name_their_column() {
        assert_eq!(read("10.0.0.1", false), Err((Some(2), LineProblem::NoName)));
        assert_eq!(
            read("10.0.0.1,  ", false),
            Err((Some(2), LineProblem::NoName))
        );
        assert_eq!(
            read("10.0.0.1,\"open", false),
            Err((Some(2), LineProblem::UnclosedQuote))
        );
        assert_eq!(
            read("\"10.0.0.1\"x,name", false),
            Err((Some(1), LineProblem::TextAfterQuote))
        );
        assert_eq!(
            read("10.0.0.9-10.0.0.1,backwards", false),
            Err((
                Some(1),
                LineProblem::RangeBackwards {
                    range: "10.0.0.9-10.0.0.1".into()
                }
            ))
        );
        assert_eq!(
            read("10.0.0.1-::1,mixed", false),
            Err((
                Some(1),
                LineProblem::RangeBackwards {
                    range: "10.0.0.1-::1".into()
                }
            ))
        );
        assert_eq!(
            read("10.0.0.1-10.0.0,short", false),
            Err((
                Some(1),
                LineProblem::RangeEnd {
                    range: "10.0.0.1-10.0.0".into(),
                    end: "10.0.0".into()
                }
            ))
        );
    }
}
