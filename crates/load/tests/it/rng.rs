//! A tiny deterministic PRNG for the property tests, so they need no extra crate.

/// SplitMix64.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// ASCII, quotes, backslashes, control characters (NUL, CR, LF, tab, …), BMP and
    /// astral-plane characters.
    pub fn char(&mut self) -> char {
        const SPECIAL: &[char] = &[
            '\'', '\\', '\0', '\r', '\n', '\t', '\u{1}', '\u{1F}', '\u{7F}', '\u{85}', '\u{A0}',
            '\u{2028}', '\u{FEFF}', '\u{FFFF}', '"', '[', ']', '%', '+', 'N',
        ];
        loop {
            let c = match self.below(10) {
                0..=3 => char::from_u32(0x20 + self.below(0x5F) as u32),
                4 | 5 => Some(SPECIAL[self.below(SPECIAL.len() as u64) as usize]),
                6 => char::from_u32(self.below(0x20) as u32),
                7 => char::from_u32(0x80 + self.below(0xFF80) as u32),
                8 => char::from_u32(0x1_0000 + self.below(0x10_0000) as u32),
                _ => char::from_u32(0x1F600 + self.below(0x50) as u32),
            };
            // `None` for surrogate code points, which are not Unicode scalars.
            if let Some(c) = c {
                return c;
            }
        }
    }

    pub fn string(&mut self, max_len: u64) -> String {
        // Mostly short strings, some long ones.
        let len = if self.below(4) == 0 {
            self.below(max_len + 1)
        } else {
            self.below(65)
        };
        (0..len).map(|_| self.char()).collect()
    }
}
