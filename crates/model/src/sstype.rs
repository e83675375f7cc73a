//! The OutSystems `SS_TYPE` grammar.
//!
//! Input and output values of processes and activities are stored as text, with their type in
//! the `SS_TYPE` column:
//!
//! * a basic type is `rt<Name>`: `rtText`, `rtInteger`, `rtDateTime`, … (see [`BASIC_TYPE_NAMES`];
//!   names the platform may add later are accepted too);
//! * an entity identifier type is `bt<eSpace SS_KEY>*<entity SS_KEY>`, two 36-character GUIDs.
//!   The value of such an input or output is the ID of a row in that entity's table, which the
//!   migration may have to rewrite.
//!
//! [`SsType::parse`] borrows from its input and never allocates on success: it runs once per
//! input/output row.
//!
//! ```
//! use bptmig_model::SsType;
//! let t = SsType::parse("bt4bd9fd24-7bd1-4a21-9c1c-0f7a0f6e7a51*1d8a2f38-3c6b-4c5e-9a0b-6c0d8e3f1a22")?;
//! assert!(t.is_entity_ref());
//! assert_eq!(SsType::parse("rtText")?, SsType::Basic("Text"));
//! # Ok::<(), bptmig_model::SsTypeError>(())
//! ```

use std::fmt;

/// Prefix of a basic type.
const BASIC_PREFIX: &str = "rt";
/// Prefix of an entity identifier type.
const ENTITY_REF_PREFIX: &str = "bt";
/// Separator between the eSpace key and the entity key of an entity identifier type.
const ENTITY_REF_SEPARATOR: u8 = b'*';
/// Length of an `SS_KEY` GUID in its 8-4-4-4-12 text form.
const GUID_LEN: usize = 36;

/// The basic type names (after `rt`) the platform documents. Other names are accepted as well.
pub const BASIC_TYPE_NAMES: [&str; 13] = [
    "Text",
    "Integer",
    "LongInteger",
    "Boolean",
    "DateTime",
    "Date",
    "Time",
    "Decimal",
    "Currency",
    "Email",
    "PhoneNumber",
    "BinaryData",
    "EntityReference",
];

/// A parsed `SS_TYPE`, borrowing from the text it was parsed from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SsType<'a> {
    /// `rt<Name>`; holds the name after `rt`, e.g. `Text` for `rtText`.
    Basic(&'a str),
    /// `bt<eSpace SS_KEY>*<entity SS_KEY>`: the value is the ID of a row of that entity.
    EntityRef {
        /// `SS_KEY` of the eSpace that defines the entity (`OSSYS_ESPACE.SS_KEY`).
        espace_key: &'a str,
        /// `SS_KEY` of the entity (`OSSYS_ENTITY.SS_KEY`).
        entity_key: &'a str,
    },
}

impl<'a> SsType<'a> {
    /// Parses an `SS_TYPE` value exactly as stored (no trimming, prefixes are lower case).
    pub fn parse(s: &'a str) -> Result<Self, SsTypeError> {
        if s.is_empty() {
            return Err(SsTypeError::Empty);
        }
        if let Some(name) = s.strip_prefix(BASIC_PREFIX) {
            return match basic_name_problem(name) {
                None => Ok(SsType::Basic(name)),
                Some(reason) => Err(SsTypeError::MalformedBasic {
                    value: s.to_owned(),
                    reason,
                }),
            };
        }
        if let Some(keys) = s.strip_prefix(ENTITY_REF_PREFIX) {
            return parse_entity_ref(keys).map_err(|reason| SsTypeError::MalformedEntityRef {
                value: s.to_owned(),
                reason,
            });
        }
        Err(SsTypeError::UnknownPrefix {
            value: s.to_owned(),
        })
    }

    /// Whether this is an entity identifier type, whose values are row IDs.
    pub fn is_entity_ref(&self) -> bool {
        matches!(self, SsType::EntityRef { .. })
    }
}

impl fmt::Display for SsType<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SsType::Basic(name) => write!(f, "{BASIC_PREFIX}{name}"),
            SsType::EntityRef {
                espace_key,
                entity_key,
            } => write!(
                f,
                "{ENTITY_REF_PREFIX}{espace_key}{}{entity_key}",
                char::from(ENTITY_REF_SEPARATOR)
            ),
        }
    }
}

/// Why a basic type name is not acceptable, if it is not.
fn basic_name_problem(name: &str) -> Option<&'static str> {
    if name.is_empty() {
        Some("nothing follows `rt`")
    } else if !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        Some("the name after `rt` may hold only letters, digits and `_`")
    } else {
        None
    }
}

/// Parses what follows `bt`: `<GUID>*<GUID>`.
fn parse_entity_ref(keys: &str) -> Result<SsType<'_>, &'static str> {
    let Some(star) = keys.bytes().position(|b| b == ENTITY_REF_SEPARATOR) else {
        return Err("missing `*` between the eSpace key and the entity key");
    };
    // `*` is ASCII, so both slices fall on character boundaries.
    let (espace_key, entity_key) = (&keys[..star], &keys[star + 1..]);
    if !is_guid(espace_key) {
        return Err("the eSpace key before `*` is not a GUID");
    }
    if !is_guid(entity_key) {
        return Err(match entity_key.get(..GUID_LEN) {
            Some(head) if is_guid(head) => "unexpected characters after the entity key",
            _ => "the entity key after `*` is not a GUID",
        });
    }
    Ok(SsType::EntityRef {
        espace_key,
        entity_key,
    })
}

/// Whether `s` is a GUID in 8-4-4-4-12 form: hex digits (either case) and dashes.
fn is_guid(s: &str) -> bool {
    s.len() == GUID_LEN
        && s.bytes().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_hexdigit(),
        })
}

/// Why a text is not a valid `SS_TYPE`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SsTypeError {
    /// The value is the empty string.
    #[error(
        "empty SS_TYPE; expected `rt<Name>` (a basic type such as `rtText`) or \
         `bt<eSpace SS_KEY>*<entity SS_KEY>` (an entity identifier)"
    )]
    Empty,
    /// The value starts with neither `rt` nor `bt`.
    #[error(
        "SS_TYPE `{value}` starts with neither `rt` nor `bt`; expected `rt<Name>` (a basic type \
         such as `rtText`) or `bt<eSpace SS_KEY>*<entity SS_KEY>` (an entity identifier)"
    )]
    UnknownPrefix {
        /// The offending value.
        value: String,
    },
    /// The value starts with `rt` but what follows is not a type name.
    #[error(
        "malformed basic SS_TYPE `{value}`: {reason}; expected `rt<Name>` such as `rtText` or \
         `rtLongInteger`"
    )]
    MalformedBasic {
        /// The offending value.
        value: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The value starts with `bt` but is not `bt<GUID>*<GUID>`.
    #[error(
        "malformed entity identifier SS_TYPE `{value}`: {reason}; expected \
         `bt<eSpace SS_KEY>*<entity SS_KEY>`, two GUIDs of 8-4-4-4-12 hex digits such as \
         `bt4bd9fd24-7bd1-4a21-9c1c-0f7a0f6e7a51*1d8a2f38-3c6b-4c5e-9a0b-6c0d8e3f1a22`"
    )]
    MalformedEntityRef {
        /// The offending value.
        value: String,
        /// What is wrong with it.
        reason: &'static str,
    },
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests may unwrap")]
mod tests {
    use super::*;

    const ESPACE: &str = "4bd9fd24-7bd1-4a21-9c1c-0f7a0f6e7a51";
    const ENTITY: &str = "1d8a2f38-3c6b-4c5e-9a0b-6c0d8e3f1a22";

    fn entity_ref_text() -> String {
        format!("bt{ESPACE}*{ENTITY}")
    }

    fn reason_of(s: &str) -> &'static str {
        match SsType::parse(s) {
            Err(SsTypeError::MalformedEntityRef { value, reason }) => {
                assert_eq!(value, s);
                reason
            }
            other => panic!("`{s}`: expected MalformedEntityRef, got {other:?}"),
        }
    }

    #[test]
    fn every_documented_basic_type_parses() {
        for name in BASIC_TYPE_NAMES {
            let text = format!("rt{name}");
            let t = SsType::parse(&text).unwrap();
            assert_eq!(t, SsType::Basic(name));
            assert!(!t.is_entity_ref());
            assert_eq!(t.to_string(), text);
        }
    }

    #[test]
    fn unknown_basic_name_is_accepted() {
        assert_eq!(
            SsType::parse("rtRecordList"),
            Ok(SsType::Basic("RecordList"))
        );
    }

    #[test]
    fn basic_with_empty_or_odd_name_is_rejected() {
        for bad in ["rt", "rtText ", "rt-Text", "rtText*"] {
            match SsType::parse(bad) {
                Err(SsTypeError::MalformedBasic { value, .. }) => assert_eq!(value, bad),
                other => panic!("`{bad}`: expected MalformedBasic, got {other:?}"),
            }
        }
        let message = SsType::parse("rt").unwrap_err().to_string();
        assert!(message.contains("`rt`"), "{message}");
        assert!(message.contains("expected `rt<Name>`"), "{message}");
    }

    #[test]
    fn entity_ref_parses_both_keys() {
        let text = entity_ref_text();
        let t = SsType::parse(&text).unwrap();
        assert_eq!(
            t,
            SsType::EntityRef {
                espace_key: ESPACE,
                entity_key: ENTITY
            }
        );
        assert!(t.is_entity_ref());
    }

    #[test]
    fn entity_ref_accepts_upper_case_hex() {
        let text = format!("bt{}*{}", ESPACE.to_uppercase(), ENTITY.to_uppercase());
        let t = SsType::parse(&text).unwrap();
        assert!(t.is_entity_ref());
        assert_eq!(t.to_string(), text);
    }

    #[test]
    fn entity_ref_without_star_is_rejected() {
        let reason = reason_of(&format!("bt{ESPACE}{ENTITY}"));
        assert!(reason.contains("missing `*`"), "{reason}");
    }

    #[test]
    fn entity_ref_with_short_guid_is_rejected() {
        let reason = reason_of(&format!("bt{}*{ENTITY}", &ESPACE[..35]));
        assert!(reason.contains("eSpace key"), "{reason}");
        let reason = reason_of(&format!("bt{ESPACE}*{}", &ENTITY[..35]));
        assert!(reason.contains("entity key"), "{reason}");
    }

    #[test]
    fn entity_ref_with_non_hex_is_rejected() {
        let espace = ESPACE.replace('b', "g");
        let reason = reason_of(&format!("bt{espace}*{ENTITY}"));
        assert!(reason.contains("eSpace key"), "{reason}");
        // Dashes in the wrong places: same length, same characters, not 8-4-4-4-12.
        let shifted = "4bd9fd2-47bd1-4a21-9c1c-0f7a0f6e7a51";
        assert_eq!(shifted.len(), ESPACE.len());
        reason_of(&format!("bt{shifted}*{ENTITY}"));
        // Non-ASCII must not panic on slicing.
        reason_of(&format!("bt{ESPACE}*é{}", &ENTITY[2..]));
    }

    #[test]
    fn entity_ref_with_trailing_junk_is_rejected() {
        let text = format!("{}x", entity_ref_text());
        let reason = reason_of(&text);
        assert!(reason.contains("after the entity key"), "{reason}");
        reason_of(&format!("{}*{ENTITY}", entity_ref_text()));
        reason_of(&format!("{} ", entity_ref_text()));
    }

    #[test]
    fn entity_ref_with_nothing_after_bt_is_rejected() {
        reason_of("bt");
        reason_of("bt*");
    }

    #[test]
    fn empty_string_is_rejected() {
        assert_eq!(SsType::parse(""), Err(SsTypeError::Empty));
        assert!(SsTypeError::Empty
            .to_string()
            .contains("expected `rt<Name>`"));
    }

    #[test]
    fn unknown_prefix_is_rejected_with_the_value_named() {
        for bad in ["Text", "RTText", "BT", " rtText", "xx"] {
            match SsType::parse(bad) {
                Err(SsTypeError::UnknownPrefix { value }) => assert_eq!(value, bad),
                other => panic!("`{bad}`: expected UnknownPrefix, got {other:?}"),
            }
        }
        let message = SsType::parse("Text").unwrap_err().to_string();
        assert!(message.contains("`Text`"), "{message}");
        assert!(
            message.contains("`bt<eSpace SS_KEY>*<entity SS_KEY>`"),
            "{message}"
        );
    }

    #[test]
    fn malformed_entity_ref_message_names_value_and_form() {
        let text = format!("bt{ESPACE}");
        let message = SsType::parse(&text).unwrap_err().to_string();
        assert!(message.contains(&format!("`{text}`")), "{message}");
        assert!(message.contains("missing `*`"), "{message}");
        assert!(message.contains("8-4-4-4-12"), "{message}");
    }

    #[test]
    fn display_round_trips() {
        let texts = [
            "rtText".to_owned(),
            "rtLongInteger".to_owned(),
            "rtSomethingNew".to_owned(),
            entity_ref_text(),
        ];
        for text in &texts {
            let t = SsType::parse(text).unwrap();
            assert_eq!(&t.to_string(), text);
            assert_eq!(SsType::parse(&t.to_string()).unwrap(), t);
        }
    }
}
