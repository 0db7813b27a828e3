//! Attack heuristics: which sources fan out (scanners, worms, beacons).
//!
//! The original notebook's code and its documentation disagree on what it counts: the code
//! lists the sources with more than 20 *rows* (`len(gb.get_group(ip)) > 20` on a pandas
//! group-by of `srcIP`), the document the sources that connect to more than 20 distinct
//! *destination IPs*. Both are offered, named plainly ([`FanOut::Rows`], [`FanOut::Destinations`]).
//!
//! One streaming pass, with memory proportional to the distinct (source, destination) pairs,
//! counts both for every source; the chosen count decides which sources are listed and their
//! order, and the other is shown beside it. Addresses are compared by value: two spellings
//! of one IPv6 address are one host.

use std::collections::HashMap;
use std::net::Ipv6Addr;

use crate::analysis::context::NetworkContext;
use crate::analysis::fast_hash::FastHash;
use crate::{Column, Day, Error};

/// The original notebook's threshold: sources with more than 20 (rows, or destinations).
pub const DEFAULT_THRESHOLD: u64 = 20;

/// What "fans out" counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FanOut {
    /// Rows (connections) from the source: what the original notebook's code ran.
    Rows,
    /// Distinct destination addresses of the source: what the original's documentation says.
    Destinations,
}

impl FanOut {
    /// The count of `source` this measure reads, then the other one.
    pub fn counts(self, source: &SourceFanOut) -> (u64, u64) {
        match self {
            FanOut::Rows => (source.rows, source.destinations),
            FanOut::Destinations => (source.destinations, source.rows),
        }
    }

    /// The count of `source` this measure reads.
    pub fn of(self, source: &SourceFanOut) -> u64 {
        self.counts(source).0
    }

    /// The name used on the command line (`--count rows`) and in JSON.
    pub fn name(self) -> &'static str {
        match self {
            FanOut::Rows => "rows",
            FanOut::Destinations => "destinations",
        }
    }
}

impl std::str::FromStr for FanOut {
    type Err = UnknownFanOut;

    fn from_str(text: &str) -> Result<FanOut, UnknownFanOut> {
        match text {
            "rows" => Ok(FanOut::Rows),
            "destinations" => Ok(FanOut::Destinations),
            _ => Err(UnknownFanOut(text.to_string())),
        }
    }
}

/// A fan-out count named neither `rows` nor `destinations`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownFanOut(pub String);

impl std::fmt::Display for UnknownFanOut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{:?} is not a fan-out count: rows (the original's code) or destinations (its documentation)",
            self.0
        )
    }
}

impl std::error::Error for UnknownFanOut {}

/// One source that fans out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFanOut {
    /// The source address as written in the file.
    pub ip: String,
    /// Its name in the network context, if any.
    pub name: Option<String>,
    /// Distinct destination addresses it connected to.
    pub destinations: u64,
    /// Rows (connections) from it.
    pub rows: u64,
}

/// The sources above the threshold, highest count first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Heuristics {
    /// What was counted.
    pub count: FanOut,
    /// Sources listed have a count strictly above this.
    pub threshold: u64,
    /// The sources above the threshold, by the chosen count descending, then the other count
    /// descending, then address.
    pub sources: Vec<SourceFanOut>,
    /// Distinct sources in the day.
    pub sources_seen: u64,
    /// Data rows read.
    pub rows_read: u64,
}

impl Heuristics {
    /// Puts network-context names beside the addresses.
    pub fn with_context(mut self, context: &NetworkContext) -> Heuristics {
        for source in &mut self.sources {
            source.name = context.name_of(&source.ip).map(str::to_string);
        }
        self
    }
}

/// Counts rows and distinct destinations per source, pair by pair.
///
/// Sources are numbered on first sight, keyed by their value (a 4- or 16-byte number, so a
/// lookup touches one small table and no string), which also makes `2001:DB8::1` and
/// `2001:db8::1` one host; text that is not an address is keyed as text. Each row adds one
/// 8-byte (source number, destination) pair to a list: an IPv4 destination is its own 32-bit
/// number, any other destination is numbered like the sources and goes to a second list. The
/// lists are sorted and deduplicated whenever they double, so memory stays proportional to the
/// distinct pairs and the work is sequential sorting rather than random probes per row.
#[derive(Debug, Default)]
pub struct Tally {
    sources: AddressIds,
    /// The text of each source, by number, as first written in the file.
    source_texts: Vec<Box<str>>,
    /// Rows per source number.
    rows_of: Vec<u64>,
    /// (source, IPv4 destination) pairs.
    v4_pairs: PairList,
    /// Numbers for destinations that are not IPv4 addresses.
    other_destinations: AddressIds,
    /// (source, numbered destination) pairs.
    other_pairs: PairList,
    rows: u64,
}

/// Pairs gathered before the first sort (8 MiB).
const FIRST_COMPACTION: usize = 1 << 20;

/// (source, destination) pairs packed in 64 bits, deduplicated now and then.
#[derive(Debug)]
struct PairList {
    pairs: Vec<u64>,
    compact_at: usize,
}

impl Default for PairList {
    fn default() -> Self {
        PairList {
            pairs: Vec::new(),
            compact_at: FIRST_COMPACTION,
        }
    }
}

impl PairList {
    fn push(&mut self, source: u32, destination: u32) {
        self.pairs
            .push(u64::from(source) << 32 | u64::from(destination));
        if self.pairs.len() >= self.compact_at {
            self.compact();
            self.compact_at = (self.pairs.len() * 2).max(FIRST_COMPACTION);
        }
    }

    fn compact(&mut self) {
        self.pairs.sort_unstable();
        self.pairs.dedup();
    }

    /// Adds each source's distinct destinations to `distinct`.
    fn count_into(mut self, distinct: &mut [u64]) {
        self.compact();
        for pair in &self.pairs {
            distinct[(pair >> 32) as usize] += 1;
        }
    }
}

/// An IPv4 address in dotted decimal as the flow files write it (no leading zeros), read
/// without the general parser's overhead; `None` for anything else.
fn ipv4(text: &str) -> Option<u32> {
    let mut value: u32 = 0;
    let mut octet: u32 = 0;
    let mut digits = 0;
    let mut dots = 0;
    let mut leading_zero = false;
    for &byte in text.as_bytes() {
        match byte {
            b'0'..=b'9' => {
                if leading_zero || digits == 3 {
                    return None;
                }
                leading_zero = digits == 0 && byte == b'0';
                octet = octet * 10 + u32::from(byte - b'0');
                digits += 1;
            }
            b'.' if digits > 0 && octet <= 255 && dots < 3 => {
                value = value << 8 | octet;
                (octet, digits, leading_zero) = (0, 0, false);
                dots += 1;
            }
            _ => return None,
        }
    }
    (dots == 3 && digits > 0 && octet <= 255).then_some(value << 8 | octet)
}

/// Numbers for addresses, in order of first sight.
#[derive(Debug, Default)]
struct AddressIds {
    v4: HashMap<u32, u32, FastHash>,
    v6: HashMap<u128, u32, FastHash>,
    text: HashMap<Box<str>, u32, FastHash>,
    count: u32,
}

impl AddressIds {
    /// The number of `text`, and whether it was seen for the first time.
    fn id(&mut self, text: &str) -> (u32, bool) {
        let next = self.count;
        let id = if let Some(v4) = ipv4(text) {
            *self.v4.entry(v4).or_insert(next)
        } else if let Ok(v6) = text.parse::<Ipv6Addr>() {
            *self.v6.entry(u128::from(v6)).or_insert(next)
        } else if let Some(&id) = self.text.get(text) {
            id
        } else {
            self.text.insert(text.into(), next);
            next
        };
        let new = id == next;
        if new {
            // More than 4 billion distinct addresses cannot come from one day's file.
            self.count = self.count.saturating_add(1);
        }
        (id, new)
    }
}

impl Tally {
    /// An empty count.
    pub fn new() -> Tally {
        Tally::default()
    }

    /// Counts one connection.
    pub fn add(&mut self, source: &str, destination: &str) {
        self.rows += 1;
        let (src, new) = self.sources.id(source);
        if new {
            self.source_texts.push(source.into());
            self.rows_of.push(0);
        }
        self.rows_of[src as usize] += 1;
        match ipv4(destination) {
            Some(dst) => self.v4_pairs.push(src, dst),
            None => {
                let (dst, _) = self.other_destinations.id(destination);
                self.other_pairs.push(src, dst);
            }
        }
    }

    /// The sources whose `count` is above `threshold`, sorted.
    pub fn finish(self, count: FanOut, threshold: u64) -> Heuristics {
        let mut distinct = vec![0u64; self.rows_of.len()];
        self.v4_pairs.count_into(&mut distinct);
        self.other_pairs.count_into(&mut distinct);
        let mut sources: Vec<SourceFanOut> = self
            .source_texts
            .iter()
            .zip(distinct.iter().zip(&self.rows_of))
            .map(|(ip, (&destinations, &rows))| SourceFanOut {
                ip: ip.to_string(),
                name: None,
                destinations,
                rows,
            })
            .filter(|source| count.of(source) > threshold)
            .collect();
        sources.sort_by(|a, b| {
            count
                .counts(b)
                .cmp(&count.counts(a))
                .then_with(|| a.ip.cmp(&b.ip))
        });
        Heuristics {
            count,
            threshold,
            sources,
            sources_seen: self.source_texts.len() as u64,
            rows_read: self.rows,
        }
    }
}

/// Reads the whole day once and lists the sources whose `count` is above `threshold`
/// ([`DEFAULT_THRESHOLD`] in the original).
///
/// ```no_run
/// # fn main() -> Result<(), flow_edge::Error> {
/// use flow_edge::analysis::heuristics::{attack_heuristics, FanOut};
/// let day = flow_edge::Day::open_read_only("/srv/oa/data/flow/20160708")?;
/// let as_run = attack_heuristics(&day, FanOut::Rows, 20)?; // the original's code
/// let as_documented = attack_heuristics(&day, FanOut::Destinations, 20)?; // its document
/// println!("{as_run}\n{as_documented}");
/// # Ok(()) }
/// ```
pub fn attack_heuristics(day: &Day, count: FanOut, threshold: u64) -> Result<Heuristics, Error> {
    let mut tally = Tally::new();
    day.for_each_row(|row| {
        tally.add(row.get(Column::SrcIp), row.get(Column::DstIp));
        Ok(())
    })?;
    Ok(tally.finish(count, threshold))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Five sources: many destinations once each, one destination many times, a pair of
    /// rows per destination, and two just around the threshold.
    fn five_sources() -> Tally {
        let mut fan_out = Tally::new();
        for i in 0..30 {
            fan_out.add("10.0.0.1", &format!("192.168.0.{i}"));
        }
        for _ in 0..100 {
            fan_out.add("10.0.0.2", "192.168.0.1");
        }
        for i in 0..25 {
            fan_out.add("10.0.0.3", &format!("192.168.1.{i}"));
            fan_out.add("10.0.0.3", &format!("192.168.1.{i}"));
        }
        for i in 0..21 {
            fan_out.add("10.0.0.4", &format!("172.16.0.{i}"));
        }
        for i in 0..20 {
            fan_out.add("10.0.0.5", &format!("172.16.0.{i}"));
        }
        fan_out
    }

    #[test]
    fn the_documented_count_ranks_sources_by_distinct_destinations_not_rows() {
        let result = five_sources().finish(FanOut::Destinations, DEFAULT_THRESHOLD);
        let listed: Vec<(&str, u64, u64)> = result
            .sources
            .iter()
            .map(|s| (s.ip.as_str(), s.destinations, s.rows))
            .collect();
        assert_eq!(
            listed,
            [
                ("10.0.0.1", 30, 30),
                ("10.0.0.3", 25, 50),
                ("10.0.0.4", 21, 21)
            ]
        );
        assert_eq!(result.sources_seen, 5);
        assert_eq!(result.rows_read, 30 + 100 + 50 + 21 + 20);
    }

    #[test]
    fn the_original_count_lists_sources_with_more_than_20_rows_whatever_their_destinations() {
        let result = five_sources().finish(FanOut::Rows, DEFAULT_THRESHOLD);
        assert_eq!(result.count, FanOut::Rows);
        let listed: Vec<(&str, u64, u64)> = result
            .sources
            .iter()
            .map(|s| (s.ip.as_str(), s.rows, s.destinations))
            .collect();
        // 10.0.0.2 talks to one host 100 times: the original's code lists it first.
        assert_eq!(
            listed,
            [
                ("10.0.0.2", 100, 1),
                ("10.0.0.3", 50, 25),
                ("10.0.0.1", 30, 30),
                ("10.0.0.4", 21, 21)
            ]
        );
    }

    #[test]
    fn fan_out_counts_are_named_as_on_the_command_line() {
        for count in [FanOut::Rows, FanOut::Destinations] {
            assert_eq!(count.name().parse::<FanOut>(), Ok(count));
        }
        let refused = "hosts".parse::<FanOut>().unwrap_err().to_string();
        assert!(refused.contains("rows (the original's code)"), "{refused}");
    }

    #[test]
    fn dotted_quads_read_like_the_standard_parser_reads_them() {
        for text in [
            "10.0.0.1",
            "255.255.255.255",
            "0.0.0.0",
            "1.2.3",
            "1.2.3.4.5",
            "256.1.1.1",
            "01.2.3.4",
            "0.0.0.00",
            "1.2.3.",
            ".1.2.3",
            "1.2.3.4.",
            "255.255.255.256",
            "10.0.0.010",
            "1..2.3",
            "",
            "1.2.3.4 ",
            "a.b.c.d",
            "1.2.3.-4",
            "1000.1.1.1",
        ] {
            let expected = text.parse::<std::net::Ipv4Addr>().ok().map(u32::from);
            assert_eq!(ipv4(text), expected, "{text:?}");
        }
    }

    #[test]
    fn destinations_count_by_address_whatever_their_spelling_or_kind() {
        let mut fan_out = Tally::new();
        for destination in [
            "2001:db8::1",
            "2001:DB8::1",
            "2001:db8:0::1",
            "10.0.0.1",
            "10.0.0.1",
            "not-an-ip",
            "not-an-ip",
            "NOT-AN-IP",
        ] {
            fan_out.add("192.168.0.1", destination);
        }
        let result = fan_out.finish(FanOut::Destinations, 0);
        assert_eq!(result.sources[0].destinations, 4);
        assert_eq!(result.sources[0].rows, 8);
    }

    #[test]
    fn equal_fan_outs_are_ordered_by_rows_then_address() {
        let mut fan_out = Tally::new();
        for source in ["10.0.0.9", "10.0.0.8"] {
            for i in 0..3 {
                fan_out.add(source, &format!("192.168.0.{i}"));
            }
        }
        fan_out.add("10.0.0.7", "192.168.0.1");
        fan_out.add("10.0.0.7", "192.168.0.2");
        fan_out.add("10.0.0.7", "192.168.0.3");
        fan_out.add("10.0.0.7", "192.168.0.3");
        let order: Vec<String> = fan_out
            .finish(FanOut::Destinations, 0)
            .sources
            .into_iter()
            .map(|s| s.ip)
            .collect();
        assert_eq!(order, ["10.0.0.7", "10.0.0.8", "10.0.0.9"]);
    }
}
