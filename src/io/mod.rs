//! File I/O: the steps every crash-safe write is made of, and reading a whole file without
//! copying it. Knows nothing of flows or CSV.

pub(crate) mod cache;
pub(crate) mod durable;
pub(crate) mod gather;
pub(crate) mod identity;
pub(crate) mod lock;
pub(crate) mod mapped;
pub(crate) mod ownership;
pub(crate) mod write_ahead;
