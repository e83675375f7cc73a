//! The chunk digest the ledger records: how a resumed load tells that a chunk the ledger
//! lists holds the rows it is about to skip.
//!
//! # Version 2 (`v2:`): the Arrow values
//!
//! SHA-256 over the chunk's values as the writers bind them ([`BoundBatch`]), computed before
//! a writer is chosen: the same rows give the same digest whether `insert` or `bulk` loads
//! them, and however literals are rendered or values sent. The bytes hashed:
//!
//! * a header: the string `bptmig chunk digest v2`, the number of columns (u64), then each
//!   column's name and SQL type (as `SqlType::ddl` prints it), as strings;
//! * then per row, per column in the load's order, `0x00` for NULL, else the column's tag
//!   and its value:
//!
//! | tag | SQL type | value |
//! |---|---|---|
//! | `0x01` | `tinyint` | the byte |
//! | `0x02` | `smallint` | `i16` |
//! | `0x03` | `int` | `i32` |
//! | `0x04` | `bigint` | `i64` |
//! | `0x05` | `bit` | `0x00` or `0x01` |
//! | `0x06` | `decimal`, `numeric`, `money`, `smallmoney` | the unscaled `i128` |
//! | `0x07` | `float` | the `f64`'s bits (`u64`) |
//! | `0x08` | `real` | the `f32`'s bits (`u32`) |
//! | `0x09` | `char` … `ntext` | string |
//! | `0x0A` | `datetime` | milliseconds since 1970 (`i64`) |
//! | `0x0B` | `smalldatetime` | milliseconds since 1970 (`i64`) |
//! | `0x0C` | `datetime2` | nanoseconds since 1970 (`i64`) |
//! | `0x0D` | `date` | days since 1970 (`i32`) |
//! | `0x0E` | `time` | nanoseconds since midnight (`i64`) |
//! | `0x0F` | `datetimeoffset` | its text (string) |
//! | `0x10` | `uniqueidentifier` | its text (string) |
//! | `0x11` | `binary`, `varbinary`, `image` | bytes |
//!
//! Integers are little-endian; a string (or bytes) is its length in bytes (`u64`) and its
//! UTF-8. Every value is first checked as the writers check it, so a chunk that neither writer
//! would send has no digest. The ledger stores `v2:` and the first 60 hex digits (240 bits) of
//! the hash: its `DIGEST` column is `NVARCHAR(64)` in every target that has a ledger already.
//!
//! # Version 1 (no prefix): the rendered text
//!
//! bptmig before the `v2:` digest hashed each row's SQL literal tuple followed by a newline
//! (64 hex digits). A resumed load accepts such a ledger row while the rows still render to
//! that text, and otherwise names the chunk and says what to do
//! ([`Error::LedgerOlderDigest`](crate::Error::LedgerOlderDigest)).

use sha2::{Digest as _, Sha256};

use crate::value::{BoundBatch, Result, TypedArray};

/// What a digest of the current encoding starts with.
pub(crate) const V2_PREFIX: &str = "v2:";
/// Hex digits of the hash kept after the prefix: 3 + 60 fit `NVARCHAR(64)`.
const V2_HEX_DIGITS: usize = 60;
const V2_HEADER: &str = "bptmig chunk digest v2";
const NULL: u8 = 0x00;

/// The `v2:` digest of `rows`.
pub(crate) fn chunk_digest(rows: &BoundBatch) -> Result<String> {
    let mut hasher = Sha256::new();
    let mut buf = Vec::with_capacity(256);
    put_bytes(&mut buf, V2_HEADER.as_bytes());
    buf.extend_from_slice(&(rows.columns().len() as u64).to_le_bytes());
    for column in rows.columns() {
        put_bytes(&mut buf, column.name.as_bytes());
        put_bytes(&mut buf, column.ty.ddl().as_bytes());
    }
    hasher.update(&buf);
    for row in 0..rows.num_rows() {
        buf.clear();
        for column in rows.columns() {
            let values = &column.values;
            if values.array().is_null(row) {
                buf.push(NULL);
                continue;
            }
            values.check(row).map_err(|p| column.error(p, row))?;
            put_value(&mut buf, values, row);
        }
        hasher.update(&buf);
    }
    let hex = bptmig_workdir::hex(&hasher.finalize());
    Ok(format!("{V2_PREFIX}{}", &hex[..V2_HEX_DIGITS]))
}

/// The digest older bptmig recorded (version 1): SHA-256 of each row's literal tuple and a
/// newline, as the `insert` writer renders them today.
pub(crate) fn text_digest(rows: &BoundBatch) -> Result<String> {
    let mut hasher = Sha256::new();
    let mut text = String::with_capacity(256);
    for row in 0..rows.num_rows() {
        text.clear();
        rows.render_row(&mut text, row)?;
        text.push('\n');
        hasher.update(text.as_bytes());
    }
    Ok(bptmig_workdir::hex(&hasher.finalize()))
}

/// How a digest the ledger recorded compares with the rows of the chunk now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Recorded {
    /// The same rows.
    Same,
    /// Other rows (a `v2:` digest that differs).
    Differs,
    /// A version 1 digest that the rows no longer render to.
    OlderDiffers,
}

/// Compares the digest the ledger recorded with `now`, the chunk's `v2:` digest.
pub(crate) fn compare(recorded: &str, now: &str, rows: &BoundBatch) -> Result<Recorded> {
    if recorded.starts_with(V2_PREFIX) {
        return Ok(if recorded == now {
            Recorded::Same
        } else {
            Recorded::Differs
        });
    }
    Ok(if recorded == text_digest(rows)? {
        Recorded::Same
    } else {
        Recorded::OlderDiffers
    })
}

/// A string or bytes: the length, then the bytes.
fn put_bytes(buf: &mut Vec<u8>, bytes: &[u8]) {
    buf.extend_from_slice(&(bytes.len() as u64).to_le_bytes());
    buf.extend_from_slice(bytes);
}

/// The tag and the bytes of the (checked, not NULL) value at `row`.
fn put_value(buf: &mut Vec<u8>, values: &TypedArray, row: usize) {
    match values {
        TypedArray::TinyInt(a) => buf.extend([0x01, a.value(row)]),
        TypedArray::SmallInt(a) => put(buf, 0x02, &a.value(row).to_le_bytes()),
        TypedArray::Int(a) => put(buf, 0x03, &a.value(row).to_le_bytes()),
        TypedArray::BigInt(a) => put(buf, 0x04, &a.value(row).to_le_bytes()),
        TypedArray::Bit(a) => buf.extend([0x05, u8::from(a.value(row))]),
        TypedArray::Decimal { array, .. } => put(buf, 0x06, &array.value(row).to_le_bytes()),
        TypedArray::Float(a) => put(buf, 0x07, &a.value(row).to_bits().to_le_bytes()),
        TypedArray::Real(a) => put(buf, 0x08, &a.value(row).to_bits().to_le_bytes()),
        TypedArray::Text(a) => put_tagged_bytes(buf, 0x09, a.value(row).as_bytes()),
        TypedArray::DateTime(a) => put(buf, 0x0A, &a.value(row).to_le_bytes()),
        TypedArray::SmallDateTime(a) => put(buf, 0x0B, &a.value(row).to_le_bytes()),
        TypedArray::DateTime2 { array, .. } => put(buf, 0x0C, &array.value(row).to_le_bytes()),
        TypedArray::Date(a) => put(buf, 0x0D, &a.value(row).to_le_bytes()),
        TypedArray::Time { array, .. } => put(buf, 0x0E, &array.value(row).to_le_bytes()),
        TypedArray::DateTimeOffset { array, .. } => {
            put_tagged_bytes(buf, 0x0F, array.value(row).as_bytes());
        }
        TypedArray::Guid(a) => put_tagged_bytes(buf, 0x10, a.value(row).as_bytes()),
        TypedArray::Binary(a) => put_tagged_bytes(buf, 0x11, a.value(row)),
    }
}

fn put(buf: &mut Vec<u8>, tag: u8, bytes: &[u8]) {
    buf.push(tag);
    buf.extend_from_slice(bytes);
}

fn put_tagged_bytes(buf: &mut Vec<u8>, tag: u8, bytes: &[u8]) {
    buf.push(tag);
    put_bytes(buf, bytes);
}

#[cfg(test)]
mod tests;
