//! Replacements already written in one column of one batch, direct-mapped by a cheap
//! fingerprint of the value: a value met again under the same rule is copied from the
//! output, not hashed and rendered again. History repeats its texts (labels, templated
//! inbox details, the same comment on every activity of a process), and a long one costs
//! far more to hash and render than to compare and copy.

use arrow::array::{StringArray, StringBuilder};

/// Slots of the map; a value whose slot another took is simply rendered again.
const SLOTS: usize = 256;

/// The row a slot remembers, the rule that wrote it and where its replacement lies in the
/// output's value bytes.
#[derive(Clone, Copy)]
struct Slot {
    row: usize,
    rule: u16,
    start: usize,
    end: usize,
}

const EMPTY: Slot = Slot {
    row: usize::MAX,
    rule: 0,
    start: 0,
    end: 0,
};

pub(super) struct Repeats {
    slots: Vec<Slot>,
    /// The replacement being copied (the builder cannot lend its own bytes to itself).
    scratch: Vec<u8>,
}

impl Repeats {
    pub(super) fn new() -> Self {
        Self {
            slots: vec![EMPTY; SLOTS],
            scratch: Vec::new(),
        }
    }

    /// The slot of `value` under `rule`: from its length, rule and first and last bytes.
    pub(super) fn slot(value: &str, rule: u16) -> usize {
        let b = value.as_bytes();
        let word = |bytes: &[u8]| {
            let mut w = [0u8; 8];
            w[..bytes.len()].copy_from_slice(bytes);
            u64::from_le_bytes(w)
        };
        let head = word(&b[..b.len().min(8)]);
        let tail = word(&b[b.len().saturating_sub(8)..]);
        let h = (b.len() as u64 ^ (u64::from(rule) << 48)).wrapping_mul(0x9e37_79b9_7f4a_7c15)
            ^ head.wrapping_mul(0xc2b2_ae3d_27d4_eb4f)
            ^ tail.wrapping_mul(0x1656_67b1_9e37_79f9);
        (h >> 56) as usize % SLOTS
    }

    /// Appends to `out` the replacement written earlier for the value of row `i` under
    /// `rule`, if `slot` holds it; `false` when it must be rendered.
    pub(super) fn reuse(
        &mut self,
        slot: usize,
        (base, i): (&StringArray, usize),
        rule: u16,
        out: &mut StringBuilder,
    ) -> bool {
        let s = self.slots[slot];
        if s.row == usize::MAX || s.rule != rule || base.value(s.row) != base.value(i) {
            return false;
        }
        self.scratch.clear();
        self.scratch
            .extend_from_slice(&out.values_slice()[s.start..s.end]);
        match std::str::from_utf8(&self.scratch) {
            Ok(text) => {
                out.append_value(text);
                true
            }
            Err(_) => false,
        }
    }

    /// Remembers that row `i`'s replacement under `rule` is `out`'s value bytes
    /// `start..end`.
    pub(super) fn remember(
        &mut self,
        slot: usize,
        i: usize,
        rule: u16,
        (start, end): (usize, usize),
    ) {
        self.slots[slot] = Slot {
            row: i,
            rule,
            start,
            end,
        };
    }
}

#[cfg(test)]
mod tests {
    use arrow::array::{Array, StringArray, StringBuilder};

    use super::Repeats;

    #[test]
    fn a_repeated_value_is_copied_and_another_is_not() {
        let base = StringArray::from(vec!["John Doe", "Jane Roe", "John Doe"]);
        let mut out = StringBuilder::new();
        let mut repeats = Repeats::new();
        let slot = Repeats::slot(base.value(0), 1);
        assert!(!repeats.reuse(slot, (&base, 0), 1, &mut out));
        out.append_value("Maria Jensen");
        repeats.remember(slot, 0, 1, (0, 12));
        assert!(!repeats.reuse(Repeats::slot(base.value(1), 1), (&base, 1), 1, &mut out));
        assert!(
            !repeats.reuse(slot, (&base, 2), 2, &mut out),
            "another rule"
        );
        assert!(repeats.reuse(slot, (&base, 2), 1, &mut out));
        let out = out.finish();
        assert_eq!(out.len(), 2);
        assert_eq!(out.value(1), "Maria Jensen");
    }
}
