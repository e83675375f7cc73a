//! What each method writes for one value, from the value's keyed hash: straight into the
//! output (an Arrow string builder), never through a `String` of its own.
//!
//! * `hash`: the first 16 hex digits of the HMAC;
//! * `fake:person`: "Firstname Lastname" from two fixed lists;
//! * `fake:email`: `firstname.lastname.xxxx@example.invalid` (RFC 2606's reserved domain);
//! * `fake:text`: lower-case words of the value's length;
//! * `fake:digits`: digits of the value's length;
//! * `keep-format`: each letter a letter of the same case, each digit a digit, the rest kept.
//!
//! The longer outputs draw from a small generator seeded with the HMAC, so the same value
//! under the same key gives the same output everywhere. Every output fits `max_len` (the
//! column's length in characters, when the extract knows it): `hash`, `person` and `email`
//! are ASCII and cut to it; the others keep the value's length in characters, which already
//! fits.

use std::fmt::Write;

use bptmig_model::pipeline::{AnonMethod, FakeKind};

/// Hex digits `hash` keeps (64 bits of the HMAC).
pub(crate) const HASH_DIGITS: usize = 16;

/// The reserved domain of `fake:email` addresses.
pub(crate) const EMAIL_DOMAIN: &str = "example.invalid";

const FIRST_NAMES: [&str; 64] = [
    "Maria", "Paul", "Aiko", "Lars", "Nadia", "Omar", "Elena", "Tomas", "Grace", "Ivan", "Leila",
    "Mateo", "Sofia", "Kenji", "Amara", "Felix", "Hana", "Diego", "Ingrid", "Kofi", "Lucia",
    "Marek", "Noor", "Oscar", "Priya", "Rafael", "Sara", "Theo", "Ursula", "Viktor", "Wen",
    "Yusuf", "Zara", "Anton", "Bianca", "Carlos", "Dana", "Emil", "Fatima", "Gustav", "Helena",
    "Idris", "Jonas", "Kira", "Liam", "Mila", "Nils", "Olga", "Pedro", "Quinn", "Rosa", "Stefan",
    "Tara", "Umar", "Vera", "Willem", "Xenia", "Yara", "Zoltan", "Alma", "Bruno", "Clara",
    "Dmitri", "Esme",
];

const LAST_NAMES: [&str; 64] = [
    "Jensen",
    "Okafor",
    "Tanaka",
    "Novak",
    "Silva",
    "Haddad",
    "Kowalski",
    "Moreau",
    "Lindqvist",
    "Mensah",
    "Rossi",
    "Petrov",
    "Garcia",
    "Nakamura",
    "Schmidt",
    "Andersen",
    "Dubois",
    "Costa",
    "Ivanova",
    "Yilmaz",
    "Horvat",
    "Kim",
    "Larsen",
    "Mendes",
    "Nguyen",
    "Oliveira",
    "Popescu",
    "Quispe",
    "Reyes",
    "Santos",
    "Takahashi",
    "Ueda",
    "Varga",
    "Weber",
    "Xavier",
    "Yamamoto",
    "Zielinski",
    "Abbott",
    "Baker",
    "Castillo",
    "Dalton",
    "Eriksen",
    "Fischer",
    "Gallo",
    "Hansen",
    "Ishikawa",
    "Jovanovic",
    "Keller",
    "Lopez",
    "Murphy",
    "Nielsen",
    "Ortiz",
    "Park",
    "Quinlan",
    "Romero",
    "Sato",
    "Torres",
    "Ulrich",
    "Vogel",
    "Walsh",
    "Young",
    "Zhang",
    "Adler",
    "Brandt",
];

const WORDS: [&str; 32] = [
    "lorem",
    "ipsum",
    "dolor",
    "sit",
    "amet",
    "consectetur",
    "adipiscing",
    "elit",
    "sed",
    "do",
    "eiusmod",
    "tempor",
    "incididunt",
    "ut",
    "labore",
    "et",
    "dolore",
    "magna",
    "aliqua",
    "enim",
    "ad",
    "minim",
    "veniam",
    "quis",
    "nostrud",
    "exercitation",
    "ullamco",
    "laboris",
    "nisi",
    "aliquip",
    "ex",
    "ea",
];

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Writes what `method` makes of `value` (whose keyed hash is `mac`) into `out`, at most
/// `max_len` characters when set. `clear` writes nothing (the caller writes NULL or '').
pub(crate) fn render<W: Write>(
    method: AnonMethod,
    mac: &[u8; 32],
    value: &str,
    max_len: Option<usize>,
    out: &mut W,
) -> std::fmt::Result {
    let mut out = Bounded {
        out,
        room: max_len.unwrap_or(usize::MAX),
    };
    match method {
        AnonMethod::Clear => Ok(()),
        AnonMethod::Hash => hex(mac, HASH_DIGITS, &mut out),
        AnonMethod::Fake(FakeKind::Person) => {
            let (first, last) = person(mac);
            out.write_str(first)?;
            out.write_str(" ")?;
            out.write_str(last)
        }
        AnonMethod::Fake(FakeKind::Email) => email(mac, max_len, &mut out),
        // The same length as the value, which fits already.
        AnonMethod::Fake(FakeKind::Text) => text(mac, value.chars().count(), out.out),
        AnonMethod::Fake(FakeKind::Digits) => digits(mac, value.chars().count(), out.out),
        AnonMethod::KeepFormat => keep_format(mac, value, out.out),
    }
}

/// The person `mac` names.
fn person(mac: &[u8; 32]) -> (&'static str, &'static str) {
    (
        FIRST_NAMES[usize::from(mac[0]) % FIRST_NAMES.len()],
        LAST_NAMES[usize::from(mac[1]) % LAST_NAMES.len()],
    )
}

/// `first.last.xxxx@example.invalid`; where that is too long, `xxxxxxxx@example.invalid`;
/// where even that is, hex digits only.
fn email<W: Write>(
    mac: &[u8; 32],
    max_len: Option<usize>,
    out: &mut Bounded<W>,
) -> std::fmt::Result {
    let (first, last) = person(mac);
    let domain = EMAIL_DOMAIN.len() + 1;
    let full = first.len() + last.len() + 2 + 4 + domain;
    match max_len {
        Some(max) if max < full && max >= 8 + domain => {
            hex(&mac[2..], 8, out)?;
        }
        Some(max) if max < full => return hex(&mac[2..], HASH_DIGITS, out),
        _ => {
            for name in [first, last] {
                for c in name.chars() {
                    out.write_char(c.to_ascii_lowercase())?;
                }
                out.write_char('.')?;
            }
            hex(&mac[2..], 4, out)?;
        }
    }
    out.write_char('@')?;
    out.write_str(EMAIL_DOMAIN)
}

/// Words of [`WORDS`] separated by single spaces, exactly `len` characters long.
fn text<W: Write>(mac: &[u8; 32], len: usize, out: &mut W) -> std::fmt::Result {
    let mut random = Bytes::new(mac);
    let mut out = Chunked::new(out);
    let mut left = len;
    while left > 0 {
        let word = WORDS[usize::from(random.next()) % WORDS.len()];
        let take = word.len().min(left);
        for &b in &word.as_bytes()[..take] {
            out.push_ascii(b)?;
        }
        left -= take;
        if left > 0 {
            out.push_ascii(b' ')?;
            left -= 1;
        }
    }
    out.flush()
}

/// What `keep-format` writes for an ASCII byte: `(base, choices)`, a random one of
/// `choices` characters from `base` on; `choices == 0` keeps the byte.
const ASCII_CLASSES: [(u8, u8); 128] = {
    let mut t = [(0u8, 0u8); 128];
    let mut b = 0;
    while b < 128 {
        t[b as usize] = match b {
            b'a'..=b'z' => (b'a', 26),
            b'A'..=b'Z' => (b'A', 26),
            b'0'..=b'9' => (b'0', 10),
            _ => (0, 0),
        };
        b += 1;
    }
    t
};

/// The same for a character beyond ASCII: a letter (of its case; a caseless one lower
/// case), a digit, or kept (`choices == 0`).
fn class_of(c: char) -> (u8, u8) {
    if c.is_alphabetic() {
        if c.is_uppercase() {
            (b'A', 26)
        } else {
            (b'a', 26)
        }
    } else if c.is_numeric() {
        (b'0', 10)
    } else {
        (0, 0)
    }
}

/// Classes of the characters beyond ASCII met in one value, direct-mapped: long texts
/// repeat a few scripts' characters, whose Unicode lookups would dominate.
struct ClassCache([(char, (u8, u8)); 64]);

impl ClassCache {
    fn new() -> Self {
        Self([('\0', (0, 0)); 64])
    }

    fn class(&mut self, c: char) -> (u8, u8) {
        let slot = &mut self.0[(c as usize) % 64];
        if slot.0 != c {
            *slot = (c, class_of(c));
        }
        slot.1
    }
}

fn keep_format<W: Write>(mac: &[u8; 32], value: &str, out: &mut W) -> std::fmt::Result {
    let mut random = Bytes::new(mac);
    let mut out = Chunked::new(out);
    let mut cache: Option<ClassCache> = None;
    let bytes = value.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let (base, choices) = if b < 0x80 {
            i += 1;
            ASCII_CLASSES[usize::from(b)]
        } else {
            let Some(c) = value[i..].chars().next() else {
                break;
            };
            i += c.len_utf8();
            let class = cache.get_or_insert_with(ClassCache::new).class(c);
            if class.1 == 0 {
                out.push(c)?;
                continue;
            }
            class
        };
        let r = random.next();
        let o = if choices == 0 {
            b
        } else {
            base + ((u16::from(r) * u16::from(choices)) >> 8) as u8
        };
        out.push_ascii(o)?;
    }
    out.flush()
}

/// `n` random digits.
fn digits<W: Write>(mac: &[u8; 32], n: usize, out: &mut W) -> std::fmt::Result {
    let mut random = Bytes::new(mac);
    let mut out = Chunked::new(out);
    for _ in 0..n {
        out.push_ascii(b'0' + ((u16::from(random.next()) * 10) >> 8) as u8)?;
    }
    out.flush()
}

/// Output gathered into a small buffer and written a few hundred bytes at a time (one call
/// per character would dominate a long value's cost). The buffer only ever holds whole
/// characters.
struct Chunked<'w, W> {
    out: &'w mut W,
    buf: [u8; 256],
    len: usize,
}

impl<'w, W: Write> Chunked<'w, W> {
    fn new(out: &'w mut W) -> Self {
        Self {
            out,
            buf: [0; 256],
            len: 0,
        }
    }

    fn push_ascii(&mut self, byte: u8) -> std::fmt::Result {
        if self.len == self.buf.len() {
            self.flush()?;
        }
        self.buf[self.len] = byte;
        self.len += 1;
        Ok(())
    }

    fn push(&mut self, c: char) -> std::fmt::Result {
        if self.len + c.len_utf8() > self.buf.len() {
            self.flush()?;
        }
        self.len += c.encode_utf8(&mut self.buf[self.len..]).len();
        Ok(())
    }

    fn flush(&mut self) -> std::fmt::Result {
        let text = std::str::from_utf8(&self.buf[..self.len]).map_err(|_| std::fmt::Error)?;
        self.out.write_str(text)?;
        self.len = 0;
        Ok(())
    }
}

/// The first `digits` hex digits of `bytes`.
fn hex<W: Write>(bytes: &[u8], digits: usize, out: &mut W) -> std::fmt::Result {
    for i in 0..digits.min(bytes.len() * 2) {
        let b = bytes[i / 2];
        let nibble = if i % 2 == 0 { b >> 4 } else { b & 0xf };
        out.write_char(char::from(HEX[usize::from(nibble)]))?;
    }
    Ok(())
}

/// A writer that drops what passes its room (in characters; only ASCII is ever cut).
struct Bounded<'w, W> {
    out: &'w mut W,
    room: usize,
}

impl<W: Write> Write for Bounded<'_, W> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let n = s.chars().count();
        if n <= self.room {
            self.room -= n;
            return self.out.write_str(s);
        }
        for c in s.chars().take(self.room) {
            self.out.write_char(c)?;
        }
        self.room = 0;
        Ok(())
    }
}

/// Random bytes, eight from each draw of [`Stream`].
struct Bytes {
    stream: Stream,
    pool: u64,
    left: u8,
}

impl Bytes {
    fn new(mac: &[u8; 32]) -> Self {
        Self {
            stream: Stream::new(mac),
            pool: 0,
            left: 0,
        }
    }

    fn next(&mut self) -> u8 {
        if self.left == 0 {
            self.pool = self.stream.next();
            self.left = 8;
        }
        let byte = self.pool.to_le_bytes()[0];
        self.pool >>= 8;
        self.left -= 1;
        byte
    }
}

/// xoshiro256** seeded with the HMAC: as many keyed choices as a long value needs.
struct Stream([u64; 4]);

impl Stream {
    fn new(mac: &[u8; 32]) -> Self {
        let mut s = [0u64; 4];
        for (word, chunk) in s.iter_mut().zip(mac.chunks_exact(8)) {
            let mut b = [0u8; 8];
            b.copy_from_slice(chunk);
            *word = u64::from_le_bytes(b);
        }
        if s == [0; 4] {
            s[0] = 1;
        }
        Self(s)
    }

    fn next(&mut self) -> u64 {
        let s = &mut self.0;
        let result = s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        result
    }
}

#[cfg(test)]
mod tests;
