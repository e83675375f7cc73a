//! Random numbers, and the SS_KEYs derived from names through them.

/// splitmix64: tiny, fast and plenty for test data.
pub(super) struct Rng(pub(super) u64);

impl Rng {
    pub(super) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub(super) fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    pub(super) fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    pub(super) fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

/// A GUID-shaped key derived from a name: identical in every environment, like the SS_KEYs
/// the platform copies between them.
pub fn ss_key(name: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in name.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    let mut r = Rng(h);
    let (a, b) = (r.next(), r.next());
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xfff,
        (b >> 48) & 0x3fff | 0x8000,
        b & 0xffff_ffff_ffff
    )
}

/// SS_KEY of a process input definition; instances copy it. The platform keys some inputs
/// as `<process key>.#<name>` (56+ characters), the rest with a GUID.
pub(super) fn input_key(process: &str, input: &str) -> String {
    if input == "Notes" {
        format!("{}.#{input}", ss_key(&format!("process:{process}")))
    } else {
        ss_key(&format!("input:{process}.{input}"))
    }
}

/// SS_KEY of a process output definition; instances copy it.
pub(super) fn output_key(process: &str, output: &str) -> String {
    ss_key(&format!("output:{process}.{output}"))
}

/// SS_KEY of an activity output definition; instances copy it.
pub(super) fn activity_output_key(process: &str, activity: &str, output: &str) -> String {
    ss_key(&format!("actout:{process}.{activity}.{output}"))
}
