//! The lookup table: every address range of the context, cut into disjoint intervals that
//! each carry the one name that wins there.
//!
//! Precedence ("most specific wins"): the entry covering the fewest addresses names an
//! address, so a single address beats a subnet, which beats a wider one; a range counts as its
//! size (`10.0.0.1-10.0.0.254` is narrower than `10.0.0.0/24` and wider than `10.0.0.0/25`).
//! Between entries of the same size the later line wins, as the original's dictionary did.
//!
//! Why intervals and not a prefix trie: a range is not a prefix. Cut into CIDR prefixes, its
//! pieces would be more specific than the range itself (a `/32` piece of a 254-address range
//! would beat a `/25` subnet holding the same address), so a trie would need every piece to
//! carry the range's size and the best of all covering prefixes pushed down to each piece;
//! and an IPv6 range can cut into 254 prefixes, which multiplies memory by what a hostile file
//! chooses. As intervals, an entry is one range whatever its shape: inserting the entries from
//! the widest to the narrowest into an interval map (later ones overwrite what they cover)
//! leaves exactly the winners, in at most `2n + 1` intervals, found by one ordered-map lookup.

use std::collections::HashMap;
use std::net::IpAddr;

use rangemap::RangeInclusiveMap;

use super::line::Place;

/// The names of a context, by address.
#[derive(Debug, Default)]
pub(super) struct Table {
    v4: RangeInclusiveMap<u32, usize>,
    v6: RangeInclusiveMap<u128, usize>,
    /// Each distinct name once; the maps hold indexes into it, so neighbouring intervals with
    /// one name merge.
    names: Vec<String>,
}

/// Collects entries in file order, then builds the [`Table`].
#[derive(Debug, Default)]
pub(super) struct Builder {
    entries: Vec<(Place, usize)>,
    names: Vec<String>,
    ids: HashMap<String, usize>,
}

impl Builder {
    /// Adds an entry; later entries win over earlier ones of the same size.
    pub fn add(&mut self, place: Place, name: &str) {
        let id = match self.ids.get(name) {
            Some(&id) => id,
            None => {
                let id = self.names.len();
                self.names.push(name.to_string());
                self.ids.insert(name.to_string(), id);
                id
            }
        };
        self.entries.push((place, id));
    }

    /// Number of entries added.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Resolves the precedence once, so a lookup is a single interval search.
    pub fn build(mut self) -> Table {
        // Widest first; the sort is stable, so among equal sizes the file order stays and the
        // later line is inserted (and wins) last.
        self.entries
            .sort_by_key(|(place, _)| std::cmp::Reverse(span(place)));
        let mut table = Table {
            names: self.names,
            ..Table::default()
        };
        for (place, id) in self.entries {
            match place {
                Place::V4 { first, last } => table.v4.insert(first..=last, id),
                Place::V6 { first, last } => table.v6.insert(first..=last, id),
            }
        }
        table
    }
}

/// The number of addresses of a place, less one (so a whole IPv6 space fits in a `u128`).
fn span(place: &Place) -> u128 {
    match *place {
        Place::V4 { first, last } => u128::from(last - first),
        Place::V6 { first, last } => last - first,
    }
}

impl Table {
    /// The name that wins for `addr`, if any entry covers it.
    pub fn name_of(&self, addr: IpAddr) -> Option<&str> {
        let id = match addr {
            IpAddr::V4(v4) => self.v4.get(&u32::from(v4)),
            IpAddr::V6(v6) => self.v6.get(&u128::from(v6)),
        }?;
        self.names.get(*id).map(String::as_str)
    }
}
