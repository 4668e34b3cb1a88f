//! What passes between SQLite and the rest: its errors as `StoreError`s, and
//! numbers from outside as its integers.

use crate::server::storage::{EngineError, StoreError};

/// A number from outside (a seq, a page size) as SQLite's integer: past
/// `i64::MAX` it is `i64::MAX`, never wrapped negative (`after = 2^64 - 1`
/// would otherwise read as -1, and a page after it as the whole log).
pub(super) fn db_int(n: impl TryInto<i64>) -> i64 {
    n.try_into().unwrap_or(i64::MAX)
}

pub(super) fn sql(doing: &'static str) -> impl FnOnce(rusqlite::Error) -> StoreError {
    move |source| StoreError::Engine { doing, source: EngineError::new(source) }
}
