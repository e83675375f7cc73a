//! `[anonymize]` in the transform: personal data masked on its way out of the source,
//! deterministically (the same value under the same key gives the same replacement in every
//! table and every run), inside the parallel rewrite.
//!
//! * here: the rules resolved against the extract (`Anonymizer::build`): each rule's
//!   column as extracted, its length, and for a `definition` the owners (processes or
//!   activities) of that definition; the plan hash's share of the rules and key;
//! * `hmac`: HMAC-SHA256 (RFC 2104) keyed once;
//! * `render`: what each method writes for one value;
//! * `apply`: one batch's columns through their rules, counted per rule; `repeats`: a
//!   value repeated in a batch copied from its first replacement;
//! * [`Masker`]: one value at a time, for `bptmig check`'s preview.
//!
//! Entity-reference typed values (`SS_TYPE` `bt…*…`, `DATA_TYPE` `rtEntityReference`) of an
//! `INPUT_VALUE` / `OUTPUT_VALUE` column hold identifiers: a rule never changes them, and
//! counts them in `report.json` as `entity_refs_skipped`.

use std::collections::BTreeMap;

use bptmig_model::catalog::{self as c, ColumnRole};
use bptmig_model::pipeline::{AnonKey, AnonMethod, AnonRule, Anonymize};
use bptmig_workdir::sql_type::SqlType;

use crate::input::Input;
use crate::maps::Snapshot;
use crate::report::{AnonymizedCount, Report};
use crate::verified::VerifiedParts;
use crate::{Error, Result};

use hmac::KeyedHash;

mod apply;
mod hmac;
mod owners;
mod render;
mod repeats;

/// Every rule of `[anonymize]`, resolved against the extract.
pub(crate) struct Anonymizer {
    hash: KeyedHash,
    /// The columns to anonymise, by extracted table name.
    tables: BTreeMap<String, Vec<ColumnRules>>,
}

/// The rules of one column, in file order (the first that selects a row applies).
struct ColumnRules {
    /// As the extract spells it.
    column: String,
    /// The column's length in characters, when bounded.
    max_len: Option<usize>,
    /// An `INPUT_VALUE` / `OUTPUT_VALUE` column: entity-reference typed rows are left alone.
    values: bool,
    rules: Vec<Selector>,
}

/// One rule, as the rows of its column are matched against it.
struct Selector {
    /// `anonymize.rules[N]`.
    key: String,
    method: AnonMethod,
    /// `name`: the row's `NAME` (any case).
    name: Option<String>,
    /// `data_type`: the row's `DATA_TYPE` (any case).
    data_type: Option<String>,
    /// `definition`: the owners (processes, or activities) of a definition of that name;
    /// the row's `PROCESS_ID` / `ACTIVITY_ID` must be one.
    owners: Option<owners::Owned>,
}

impl Anonymizer {
    /// The rules of `config` resolved against `inputs` (none without `[anonymize]`). A rule
    /// whose column the extract lacks, or holds as something other than text, or whose
    /// `definition` or `name` the source does not know, is [`Error::Anonymize`].
    pub(crate) fn build(
        anonymize: Option<&Anonymize>,
        inputs: &[Input],
        source: &Snapshot,
        verified: &VerifiedParts,
    ) -> Result<Option<Self>> {
        let Some(anonymize) = anonymize else {
            return Ok(None);
        };
        let mut tables: BTreeMap<String, Vec<ColumnRules>> = BTreeMap::new();
        let mut owners = owners::Owners::new(source, inputs, verified);
        for rule in &anonymize.rules {
            let Some(input) = inputs
                .iter()
                .find(|i| i.name.eq_ignore_ascii_case(&rule.table))
            else {
                continue; // Not extracted: nothing of it moves.
            };
            let (column, max_len) = extracted_column(rule, input)?;
            let selector = Selector {
                key: rule.key(),
                method: rule.method,
                name: owners.parameter(rule, input)?,
                data_type: rule.data_type.clone(),
                owners: owners.of_definition(rule, input)?,
            };
            let list = tables.entry(input.name.clone()).or_default();
            match list.iter_mut().find(|c| c.column == column) {
                Some(c) => c.rules.push(selector),
                None => list.push(ColumnRules {
                    values: matches!(
                        input.model.column(&column).map(|m| m.role),
                        Some(ColumnRole::EntityRefValue { .. })
                    ),
                    column,
                    max_len,
                    rules: vec![selector],
                }),
            }
        }
        Ok(Some(Self {
            hash: KeyedHash::new(anonymize.key.expose()),
            tables,
        }))
    }
}

/// The column `rule` selects as `input` spells it, and its length when bounded.
fn extracted_column(rule: &AnonRule, input: &Input) -> Result<(String, Option<usize>)> {
    let error = |message: String| Error::Anonymize {
        rule: rule.key(),
        column: rule.column_name(),
        message,
    };
    let Some(col) = input
        .manifest
        .columns
        .iter()
        .find(|col| col.name.eq_ignore_ascii_case(&rule.column))
    else {
        return Err(error(format!(
            "the extract of `{}` has no column `{}`; check the name against the source's \
             columns or remove the rule",
            input.name, rule.column
        )));
    };
    let len = match SqlType::from_ddl(&col.sql_type) {
        Some(SqlType::Char { len } | SqlType::NChar { len }) => Some(len as usize),
        Some(SqlType::VarChar { len } | SqlType::NVarChar { len }) => len.map(|n| n as usize),
        Some(SqlType::Text | SqlType::NText) => None,
        _ => {
            return Err(error(format!(
                "`{}.{}` is `{}`, not text; the methods replace text only: remove the rule",
                input.name, col.name, col.sql_type
            )))
        }
    };
    Ok((col.name.clone(), len))
}

/// Adds the rules and a keyed fingerprint of the key (never the key) to `plan_hash`, so a
/// rerun with other rules or another key rewrites the tables; without `[anonymize]` the
/// hash is `plan_hash` unchanged.
pub(crate) fn plan_hash(plan_hash: String, anonymize: Option<&Anonymize>) -> String {
    use sha2::{Digest, Sha256};
    let Some(a) = anonymize else {
        return plan_hash;
    };
    let mut h = Sha256::new();
    h.update(plan_hash.as_bytes());
    h.update(format!("|anonymize|{:?}|", a.rules).as_bytes());
    h.update(KeyedHash::new(a.key.expose()).mac(b"bptmig plan hash"));
    bptmig_workdir::hex(&h.finalize())
}

/// `report.anonymized`: per rule, what the tables counted (every rule listed, in file
/// order, also one that changed nothing).
pub(crate) fn summarise(anonymize: Option<&Anonymize>, report: &mut Report) {
    let Some(a) = anonymize else {
        return;
    };
    report.anonymized = a
        .rules
        .iter()
        .map(|r| {
            let key = r.key();
            let sum = |f: fn(&crate::report::TableCounts) -> &BTreeMap<String, u64>| {
                report.tables.values().filter_map(|t| f(t).get(&key)).sum()
            };
            AnonymizedCount {
                values_changed: sum(|t| &t.anonymized),
                entity_refs_skipped: sum(|t| &t.anonymize_skipped),
                rule: key.clone(),
                column: r.column_name(),
                method: r.method_name(),
            }
        })
        .collect();
}

/// One value at a time under a key: what `bptmig check` previews (the transform itself goes
/// through the batch path, which allocates nothing per value).
pub struct Masker {
    hash: KeyedHash,
}

impl Masker {
    pub fn new(key: &AnonKey) -> Self {
        Self {
            hash: KeyedHash::new(key.expose()),
        }
    }

    /// What `method` makes of `value` in a column of at most `max_len` characters: `None`
    /// for NULL (`clear` on a nullable column).
    pub fn mask(
        &self,
        method: AnonMethod,
        value: &str,
        max_len: Option<usize>,
        nullable: bool,
    ) -> Option<String> {
        if method == AnonMethod::Clear || value.is_empty() {
            return (!nullable || method != AnonMethod::Clear).then(String::new);
        }
        let mut out = String::new();
        let mac = self.hash.mac(value.as_bytes());
        // Writing into a String cannot fail.
        let _ = render::render(method, &mac, value, max_len, &mut out);
        Some(out)
    }
}

/// Whether `table` is one whose values a `definition` or `name` selects.
fn is_value_table(table: &str) -> bool {
    [c::PROCESS_INPUT, c::PROCESS_OUTPUT, c::ACTIVITY_OUTPUT]
        .iter()
        .any(|t| t.eq_ignore_ascii_case(table))
}

#[cfg(test)]
mod tests;
