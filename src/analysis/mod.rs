//! Analysis of a day beyond scoring: the original's rules, attack heuristics, pages of
//! connections, and the network context (names for the analyst's own addresses).

pub mod cidr;
pub mod connections;
pub mod context;
pub(crate) mod fast_hash;
pub mod heuristics;
pub mod rules;
