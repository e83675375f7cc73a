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
//! * [`creation_order`]: rows are numbered in source-ID order, which is creation order unless
//!   the source was reseeded; a source table with rows on both sides of its identity (older
//!   rows above it, newer ones at or below it) is refused ([`Error::SourceReseeded`]) where
//!   the source showed that explicit IDs move its identities (SQL Server does).

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

/// Refuses to renumber `olds` (the moving source IDs of `table`, ascending) in source-ID
/// order when that is not their creation order: the source's identity (`source`) lies
/// between them, so rows above it are older than rows at or below it.
pub fn creation_order(table: &str, olds: &[i32], source: Option<&InstanceStat>) -> Result<()> {
    let Some(id) = source.and_then(|s| s.identity) else {
        return Ok(());
    };
    let Some(identity) = id.current else {
        return Ok(());
    };
    if id.follows_explicit != Some(true) || id.increment.is_none_or(|i| i <= 0) {
        // Unless the server showed that explicit IDs move its identity, rows above the
        // identity may be explicit ones rather than older (the sandbox server's).
        return Ok(());
    }
    let newer = olds.partition_point(|o| i64::from(*o) <= identity);
    if newer == 0 || newer == olds.len() {
        return Ok(());
    }
    Err(Error::SourceReseeded {
        table: table.to_owned(),
        identity,
        older: (olds.len() - newer) as u64,
        newer: newer as u64,
    })
}

#[cfg(test)]
mod tests;
