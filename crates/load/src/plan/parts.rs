//! The transformed parts a load reads while it writes their chunks.

use arrow::array::RecordBatch;

use super::TableInput;
use crate::Result;

/// The parts last read, whole (a tree level reads the process and the activity part in turn),
/// so that each part is read once while its chunks are loaded.
#[derive(Default)]
pub(crate) struct PartCache {
    entries: Vec<((String, usize), RecordBatch)>,
}

impl PartCache {
    /// Part `part` of `t`, whole.
    pub(crate) fn get(&mut self, t: &TableInput, part: usize) -> Result<&RecordBatch> {
        let key = (t.name.clone(), part);
        if let Some(i) = self.entries.iter().position(|(k, _)| *k == key) {
            return Ok(&self.entries[i].1);
        }
        let whole = t.read_part(part)?;
        if self.entries.len() >= 2 {
            self.entries.remove(0);
        }
        self.entries.push((key, whole));
        Ok(&self.entries[self.entries.len() - 1].1)
    }
}
