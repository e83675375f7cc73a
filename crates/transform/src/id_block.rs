//! Where `ids.strategy = "renumber"` puts a table's moved rows in the target, and in what
//! order of the source they are numbered.
//!
//! * [`place`]: the block goes right after the target's current identity value (next =
//!   identity + increment; a never-used table starts at its seed), negative ranges included,
//!   when no existing row lies in it; a row in it refuses the run
//!   ([`Error::IdentityBlocked`]). A reseeded target (identity below `MAX(ID)`) gets its block
//!   where the platform would create its own next rows, never above `MAX(ID)`. Without an
//!   identity in the snapshot (one written by an older bptmig), the block goes above
//!   `MAX(ID)`, as before; so it does when rows lie in the block and the target could not
//!   show that explicit IDs move its identity (the sandbox server, whose identity stays where
//!   it was after explicit IDs): there the identity cannot tell a reseed from rows inserted
//!   with explicit IDs.
//! * [`creation_order`] and [`numbered`]: rows are numbered in creation order, which is
//!   source-ID order unless the source was reseeded: a source table with rows on both sides
//!   of its identity (older rows above it, newer ones at or below it), where the source
//!   showed that explicit IDs move its identities (SQL Server does), numbers the rows above
//!   its identity first ([`Reseeded`]).

use std::fmt;

use crate::maps::InstanceStat;
use crate::{Error, Result};

/// The block of one table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Block {
    /// The first new ID; the block is `first ..= first + rows - 1`.
    pub first: i64,
    /// How many rows it holds.
    pub rows: u64,
    /// Why it starts there.
    pub rule: Rule,
}

impl Block {
    /// The last new ID (`first - 1` for an empty block).
    pub fn last(&self) -> i64 {
        self.first + self.rows as i64 - 1
    }
}

/// Why a block starts where it does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// Right after the target's identity value `identity` (`next` is the value the target
    /// would generate next).
    AfterIdentity { identity: i64, next: i64 },
    /// Above `MAX(ID)`: the snapshot has no identity for the table.
    AboveMax,
    /// Above `MAX(ID)` although the identity (`identity`) is below row `in_way`: the server
    /// did not show that it moves an identity past explicit IDs, so rows after the identity
    /// say nothing of a reseed.
    AboveMaxIdentityStale { identity: i64, in_way: i64 },
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rule::AfterIdentity { identity, .. } => write!(f, "after the identity {identity}"),
            Rule::AboveMax => f.write_str("above MAX(ID) (identity unknown)"),
            Rule::AboveMaxIdentityStale { identity, in_way } => write!(
                f,
                "above MAX(ID): the identity {identity} lies below row {in_way}, and the server \
                 did not show that explicit IDs move its identities"
            ),
        }
    }
}

/// The block of `rows` renumbered rows of `table` in a target whose statistics are `stat`.
pub fn place(table: &str, stat: Option<&InstanceStat>, rows: u64) -> Result<Block> {
    let max = stat.and_then(|s| s.max_id);
    let above_max = |rule| -> Result<Block> {
        let base = max.unwrap_or(0);
        if base + rows as i64 > i64::from(i32::MAX) {
            return Err(Error::IdOverflow {
                table: table.to_owned(),
                base,
                rows,
            });
        }
        Ok(Block {
            first: base + 1,
            rows,
            rule,
        })
    };
    let Some(id) = stat.and_then(|s| s.identity) else {
        return above_max(Rule::AboveMax);
    };
    let (Some(identity), Some(next)) = (id.current, id.next()) else {
        return above_max(Rule::AboveMax);
    };
    if !id.checked || id.increment.is_none_or(|i| i <= 0) {
        return above_max(Rule::AboveMax);
    }
    let block = Block {
        first: next,
        rows,
        rule: Rule::AfterIdentity { identity, next },
    };
    if let Some(row) = id.first_in_way.filter(|r| *r <= block.last()) {
        if id.follows_explicit != Some(true) {
            return above_max(Rule::AboveMaxIdentityStale {
                identity,
                in_way: row,
            });
        }
        return Err(Error::IdentityBlocked {
            table: table.to_owned(),
            identity,
            first: block.first,
            last: block.last(),
            row,
        });
    }
    if block.last() > i64::from(i32::MAX) || block.first < i64::from(i32::MIN) {
        return Err(Error::IdentityOverflow {
            table: table.to_owned(),
            identity,
            rows,
        });
    }
    Ok(block)
}

/// A source table whose identity was reseeded below some of its rows: the rows above the
/// identity were created before the reseed, those at or below it after, so creation order
/// is the rows above it (ascending), then the rows at or below it (ascending).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reseeded {
    /// The source's identity (`IDENT_CURRENT`) when the source snapshot was taken.
    pub identity: i64,
    /// Moving rows above it (older), numbered first.
    pub older: u64,
    /// Moving rows at or below it (newer), numbered after them.
    pub newer: u64,
}

/// The creation order of `olds` (the moving source IDs of a table, ascending) as far as the
/// source's identity tells it:
/// * `Ok(None)`: source-ID order is creation order (every row on one side of the identity,
///   or no identity in the snapshot);
/// * `Ok(Some(r))`: the source was reseeded ([`Reseeded`]): number the `r.older` rows above
///   the identity first. Only where the source showed that explicit IDs move its identities
///   (SQL Server does): there no row can lie above the identity unless it is older than the
///   reseed. The source snapshot is taken after the rows are read, so a row the platform
///   created meanwhile lies at or below the identity too.
/// * `Err(r)`: rows lie on both sides, but the server did not say whether explicit IDs move
///   its identities (rows above it may then be explicit ones, not older): numbered in
///   source-ID order, and the transform warns.
///
/// A server that showed that explicit IDs do *not* move its identities gives `Ok(None)`:
/// there rows above the identity are explicit ones. (The sandbox server cannot answer: it
/// refuses `IDENTITY_INSERT` on the probe's temporary table, so a sandbox source with rows on
/// both sides of its identity is `Err`.)
pub fn creation_order(
    olds: &[i32],
    source: Option<&InstanceStat>,
) -> std::result::Result<Option<Reseeded>, Reseeded> {
    let Some(id) = source.and_then(|s| s.identity) else {
        return Ok(None);
    };
    let Some(identity) = id.current else {
        return Ok(None);
    };
    if id.increment.is_none_or(|i| i <= 0) || id.follows_explicit == Some(false) {
        return Ok(None);
    }
    let newer = olds.partition_point(|o| i64::from(*o) <= identity);
    if newer == 0 || newer == olds.len() {
        return Ok(None);
    }
    let found = Reseeded {
        identity,
        older: (olds.len() - newer) as u64,
        newer: newer as u64,
    };
    match id.follows_explicit {
        Some(true) => Ok(Some(found)),
        _ => Err(found),
    }
}

/// The new IDs of `rows` rows numbered from `first`, given in source-ID order: `first`,
/// `first + 1`, … in creation order, which is source-ID order unless the source was
/// `reseeded` (then its older rows, the last `older` in source-ID order, come first).
pub fn numbered(first: i64, rows: usize, reseeded: Option<&Reseeded>) -> Vec<i32> {
    let newer = reseeded.map_or(0, |r| r.newer as usize).min(rows);
    let older = (rows - newer) as i64;
    // `place` keeps the block inside the 32-bit range.
    (0..rows as i64)
        .map(|i| {
            let rank = if (i as usize) < newer {
                older + i
            } else {
                i - newer as i64
            };
            (first + rank) as i32
        })
        .collect()
}

#[cfg(test)]
mod tests;
