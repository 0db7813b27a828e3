//! Analysis of a day beyond scoring: the original's rules, attack heuristics, pages of
//! connections, the network context (names for the analyst's own addresses) and the
//! reputation Spot wrote into the day.

pub mod cidr;
pub mod connections;
pub mod context;
pub(crate) mod fast_hash;
pub mod heuristics;
pub mod reputation;
pub mod rules;
