//! The rows verify compares: an order-independent digest of them ([`RowSum`]) and, when
//! trees were left out, which rows of a part the plan loads ([`KeptRows`]).

use arrow::array::RecordBatch;
use sha2::{Digest as _, Sha256};

use crate::plan::{Chunk, LoadPlan};
use crate::value::BoundBatch;
use crate::{Error, Result};

/// An order-independent digest: the wrapping sum of each row's SHA-256 (first 16 bytes).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct RowSum {
    sum: u128,
    pub(super) rows: u64,
}

impl RowSum {
    /// Adds each row's SQL literal tuple, as the insert writer renders it; with `each`, also
    /// pushes every row's hash there, in the batch's order.
    pub(super) fn add_batch(
        &mut self,
        batch: &RecordBatch,
        cols: &[&str],
        table: &str,
        mut each: Option<&mut Vec<u128>>,
    ) -> Result<()> {
        let r = BoundBatch::new(batch, cols).map_err(|e| Error::value(table, e))?;
        let mut s = String::with_capacity(256);
        for i in 0..r.num_rows() {
            s.clear();
            r.render_row(&mut s, i)
                .map_err(|e| Error::value(table, e))?;
            let h = Sha256::digest(s.as_bytes());
            let mut head = [0u8; 16];
            head.copy_from_slice(&h[..16]);
            let row = u128::from_le_bytes(head);
            self.sum = self.sum.wrapping_add(row);
            self.rows += 1;
            if let Some(each) = each.as_deref_mut() {
                each.push(row);
            }
        }
        Ok(())
    }

    pub(super) fn hex(self) -> String {
        format!("{:032x}", self.sum)
    }
}

/// The rows of a table the plan loads: all of them, or, when trees were left out, those its
/// chunks still hold.
pub(super) struct KeptRows {
    /// Per part, the rows kept (ascending), when trees were left out.
    parts: Option<Vec<Vec<u32>>>,
}

impl KeptRows {
    pub(super) fn new(plan: &LoadPlan, ti: usize) -> Self {
        let t = &plan.tables[ti];
        let planned: usize = plan
            .chunks
            .iter()
            .filter(|ch| ch.table == ti)
            .map(Chunk::len)
            .sum();
        if planned as u64 == t.rows() {
            return Self { parts: None };
        }
        let mut parts = vec![Vec::new(); t.manifest.parts.len()];
        for ch in plan.chunks.iter().filter(|ch| ch.table == ti) {
            parts[ch.part].extend_from_slice(&ch.rows);
        }
        for p in &mut parts {
            p.sort_unstable();
        }
        Self { parts: Some(parts) }
    }

    /// The kept rows of `batch`, which holds the part's rows from `offset` on; and the
    /// batch's length.
    pub(super) fn of(
        &mut self,
        part: usize,
        offset: usize,
        batch: &RecordBatch,
    ) -> Result<(RecordBatch, usize)> {
        let n = batch.num_rows();
        let Some(parts) = &self.parts else {
            return Ok((batch.clone(), n));
        };
        let rows = &parts[part];
        let (lo, hi) = (
            rows.partition_point(|&r| (r as usize) < offset),
            rows.partition_point(|&r| (r as usize) < offset + n),
        );
        let idx: arrow::array::UInt32Array =
            rows[lo..hi].iter().map(|&r| r - offset as u32).collect();
        let kept = arrow::compute::take_record_batch(batch, &idx)
            .map_err(|e| Error::arrow("verified rows", e))?;
        Ok((kept, n))
    }
}
