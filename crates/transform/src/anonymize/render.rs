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
        AnonMethod::Fake(FakeKind::Text) => text(mac, value.chars().count(), &mut out),
        AnonMethod::Fake(FakeKind::Digits) => {
            let mut rng = Stream::new(mac);
            for _ in value.chars() {
                out.write_char(digit(&mut rng))?;
            }
            Ok(())
        }
        AnonMethod::KeepFormat => keep_format(mac, value, &mut out),
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
fn text<W: Write>(mac: &[u8; 32], len: usize, out: &mut Bounded<W>) -> std::fmt::Result {
    let mut rng = Stream::new(mac);
    let mut left = len;
    while left > 0 {
        let word = WORDS[rng.below(WORDS.len())];
        let take = word.len().min(left);
        out.write_str(&word[..take])?;
        left -= take;
        if left > 0 {
            out.write_char(' ')?;
            left -= 1;
        }
    }
    Ok(())
}

fn keep_format<W: Write>(mac: &[u8; 32], value: &str, out: &mut Bounded<W>) -> std::fmt::Result {
    let mut rng = Stream::new(mac);
    for c in value.chars() {
        let n = if c.is_ascii_digit() || c.is_numeric() {
            digit(&mut rng)
        } else if c.is_uppercase() {
            letter(&mut rng, b'A')
        } else if c.is_alphabetic() {
            letter(&mut rng, b'a')
        } else {
            c
        };
        out.write_char(n)?;
    }
    Ok(())
}

fn digit(rng: &mut Stream) -> char {
    char::from(b'0' + rng.below(10) as u8)
}

fn letter(rng: &mut Stream, base: u8) -> char {
    char::from(base + rng.below(26) as u8)
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

    /// A number below `n` (multiply-shift; the bias is far below what a pseudonym cares about).
    fn below(&mut self, n: usize) -> usize {
        (((self.next() >> 32) * n as u64) >> 32) as usize
    }
}

#[cfg(test)]
mod tests;
