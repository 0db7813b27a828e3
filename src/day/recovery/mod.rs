//! Recovery after a crash: the journals that let the next writer finish or roll back an
//! interrupted operation.

pub(crate) mod journal;
