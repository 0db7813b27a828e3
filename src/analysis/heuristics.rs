//! Attack heuristics: which sources fan out to many destinations (scanners, worms, beacons).
//!
//! The original loaded the whole day into pandas and counted rows per source. This counts, in
//! one streaming pass with memory proportional to the distinct (source, destination) pairs,
//! both the rows and the distinct destinations of every source, and lists the sources with
//! more distinct destinations than a threshold. Addresses are compared by value: two
//! spellings of one IPv6 address are one host.

use std::collections::HashMap;
use std::net::Ipv6Addr;

use crate::analysis::context::NetworkContext;
use crate::analysis::fast_hash::FastHash;
use crate::{Column, Day, Error};

/// The threshold the original notebook's text gives: more than 20 destinations.
pub const DEFAULT_THRESHOLD: u64 = 20;

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

/// The sources above the threshold, most destinations first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Heuristics {
    /// Sources listed have strictly more distinct destinations than this.
    pub threshold: u64,
    /// The sources above the threshold, by distinct destinations descending, then rows
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
pub struct FanOut {
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

impl FanOut {
    /// An empty count.
    pub fn new() -> FanOut {
        FanOut::default()
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

    /// The sources with more than `threshold` distinct destinations, sorted.
    pub fn finish(self, threshold: u64) -> Heuristics {
        let mut distinct = vec![0u64; self.rows_of.len()];
        self.v4_pairs.count_into(&mut distinct);
        self.other_pairs.count_into(&mut distinct);
        let mut sources: Vec<SourceFanOut> = self
            .source_texts
            .iter()
            .zip(distinct.iter().zip(&self.rows_of))
            .filter(|(_, (&destinations, _))| destinations > threshold)
            .map(|(ip, (&destinations, &rows))| SourceFanOut {
                ip: ip.to_string(),
                name: None,
                destinations,
                rows,
            })
            .collect();
        sources.sort_by(|a, b| {
            b.destinations
                .cmp(&a.destinations)
                .then(b.rows.cmp(&a.rows))
                .then_with(|| a.ip.cmp(&b.ip))
        });
        Heuristics {
            threshold,
            sources,
            sources_seen: self.source_texts.len() as u64,
            rows_read: self.rows,
        }
    }
}

/// Reads the whole day once and lists the sources with more than `threshold` distinct
/// destinations ([`DEFAULT_THRESHOLD`] in the original).
pub fn attack_heuristics(day: &Day, threshold: u64) -> Result<Heuristics, Error> {
    let mut fan_out = FanOut::new();
    day.for_each_row(|row| {
        fan_out.add(row.get(Column::SrcIp), row.get(Column::DstIp));
        Ok(())
    })?;
    Ok(fan_out.finish(threshold))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_are_ranked_by_distinct_destinations_not_rows() {
        let mut fan_out = FanOut::new();
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
        let result = fan_out.finish(DEFAULT_THRESHOLD);
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
        let mut fan_out = FanOut::new();
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
        let result = fan_out.finish(0);
        assert_eq!(result.sources[0].destinations, 4);
        assert_eq!(result.sources[0].rows, 8);
    }

    #[test]
    fn equal_fan_outs_are_ordered_by_rows_then_address() {
        let mut fan_out = FanOut::new();
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
            .finish(0)
            .sources
            .into_iter()
            .map(|s| s.ip)
            .collect();
        assert_eq!(order, ["10.0.0.7", "10.0.0.8", "10.0.0.9"]);
    }
}
