//! The shape of each method's output, its determinism and its key.

use bptmig_model::pipeline::{AnonMethod, FakeKind};

use super::{render, EMAIL_DOMAIN, FIRST_NAMES, HASH_DIGITS, LAST_NAMES};
use crate::anonymize::hmac::KeyedHash;

const PERSON: AnonMethod = AnonMethod::Fake(FakeKind::Person);
const EMAIL: AnonMethod = AnonMethod::Fake(FakeKind::Email);
const TEXT: AnonMethod = AnonMethod::Fake(FakeKind::Text);
const DIGITS: AnonMethod = AnonMethod::Fake(FakeKind::Digits);

const SAMPLES: &[&str] = &[
    "John Doe",
    "john.doe@corp.example",
    "Ms. Ådne Øster-Lund, +47 912 34 567",
    "Call back after 5pm — ref 88-1234",
    "x",
    "日本語のテキスト 42",
];

fn run(key: &[u8], method: AnonMethod, value: &str, max: Option<usize>) -> String {
    let mac = KeyedHash::new(key).mac(value.as_bytes());
    let mut out = String::new();
    render(method, &mac, value, max, &mut out).unwrap();
    out
}

#[test]
fn hash_is_short_lower_hex_and_fits_the_column() {
    for v in SAMPLES {
        let h = run(b"k1", AnonMethod::Hash, v, None);
        assert_eq!(h.len(), HASH_DIGITS);
        assert!(h
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
        assert_eq!(run(b"k1", AnonMethod::Hash, v, Some(6)), h[..6]);
    }
}

#[test]
fn person_is_a_first_and_last_name_from_the_lists() {
    for v in SAMPLES {
        let p = run(b"k1", PERSON, v, None);
        let (first, last) = p.split_once(' ').unwrap();
        assert!(FIRST_NAMES.contains(&first), "{p}");
        assert!(LAST_NAMES.contains(&last), "{p}");
        assert_eq!(
            run(b"k1", PERSON, v, Some(5)).chars().count().min(5),
            5.min(p.len())
        );
        assert!(run(b"k1", PERSON, v, Some(5)).len() <= 5);
    }
}

#[test]
fn email_is_at_the_reserved_domain_and_shrinks_to_fit() {
    for v in SAMPLES {
        let e = run(b"k1", EMAIL, v, None);
        let (local, domain) = e.split_once('@').unwrap();
        assert_eq!(domain, EMAIL_DOMAIN);
        assert_eq!(local.split('.').count(), 3, "{e}");
        assert!(local
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_hexdigit() || b == b'.'));
        let short = run(b"k1", EMAIL, v, Some(26));
        assert!(
            short.len() <= 26 && short.ends_with(EMAIL_DOMAIN),
            "{short}"
        );
        assert_eq!(short.split_once('@').unwrap().0.len(), 8);
        let tiny = run(b"k1", EMAIL, v, Some(10));
        assert_eq!(tiny.len(), 10);
        assert!(tiny.bytes().all(|b| b.is_ascii_hexdigit()));
    }
}

#[test]
fn text_and_digits_keep_the_length_in_characters() {
    for v in SAMPLES {
        let n = v.chars().count();
        let t = run(b"k1", TEXT, v, None);
        assert_eq!(t.chars().count(), n, "{t:?}");
        assert!(
            t.bytes().all(|b| b.is_ascii_lowercase() || b == b' '),
            "{t:?}"
        );
        assert!(!t.starts_with(' ') && !t.contains("  "), "{t:?}");
        let d = run(b"k1", DIGITS, v, None);
        assert_eq!(d.chars().count(), n);
        assert!(d.bytes().all(|b| b.is_ascii_digit()));
    }
    assert_eq!(run(b"k1", TEXT, "", None), "");
}

#[test]
fn keep_format_maps_letters_to_letters_and_digits_to_digits() {
    for v in SAMPLES {
        let k = run(b"k1", AnonMethod::KeepFormat, v, None);
        assert_eq!(k.chars().count(), v.chars().count());
        for (a, b) in v.chars().zip(k.chars()) {
            if a.is_numeric() {
                assert!(b.is_ascii_digit(), "{a} → {b}");
            } else if a.is_uppercase() {
                assert!(b.is_ascii_uppercase(), "{a} → {b}");
            } else if a.is_alphabetic() {
                assert!(b.is_ascii_lowercase(), "{a} → {b}");
            } else {
                assert_eq!(a, b);
            }
        }
        // No more UTF-16 units (nvarchar) nor bytes (varchar) than the value had.
        assert!(k.encode_utf16().count() <= v.encode_utf16().count());
        assert!(k.len() <= v.len());
    }
    assert_ne!(
        run(b"k1", AnonMethod::KeepFormat, "John Doe", None),
        "John Doe"
    );
}

#[test]
fn the_same_key_gives_the_same_output_and_another_key_another() {
    for method in [
        AnonMethod::Hash,
        PERSON,
        EMAIL,
        TEXT,
        DIGITS,
        AnonMethod::KeepFormat,
    ] {
        let mut differ = 0;
        for v in SAMPLES {
            assert_eq!(run(b"k1", method, v, None), run(b"k1", method, v, None));
            differ += usize::from(run(b"k1", method, v, None) != run(b"k2", method, v, None));
        }
        // One-character values may agree by chance; most must not.
        assert!(differ >= SAMPLES.len() - 1, "{method:?}: {differ}");
    }
    let people: std::collections::BTreeSet<String> = (0..200)
        .map(|i| run(b"k1", PERSON, &format!("person {i}"), None))
        .collect();
    assert!(people.len() > 150, "{}", people.len());
}

#[test]
fn clear_writes_nothing() {
    assert_eq!(run(b"k1", AnonMethod::Clear, "John Doe", None), "");
}
