//! One batch's columns through their rules: a pass that picks each row's rule (the first
//! that selects it), then the output column built directly, each replacement written into
//! the Arrow builder (a value repeated in the batch copied from its first replacement,
//! [`super::repeats`]). Nothing is allocated per row.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, Int32Array, RecordBatch, StringArray, StringBuilder};
use arrow::datatypes::{DataType, Int32Type, Schema};
use bptmig_model::catalog as c;
use bptmig_model::pipeline::{AnonMethod, AnonRule};

use super::render::render;
use super::repeats::Repeats;
use super::{Anonymizer, ColumnRules, Selector};
use crate::report::TableCounts;
use crate::{Error, Result};

/// No rule picked the row.
const NONE: u16 = u16::MAX;

/// The columns of a source batch a value rule looks at.
struct RowContext<'b> {
    name: Option<&'b StringArray>,
    data_type: Option<&'b StringArray>,
    ss_type: Option<&'b StringArray>,
    batch: &'b RecordBatch,
}

impl RowContext<'_> {
    fn text(&self, column: &str) -> Option<&StringArray> {
        self.batch
            .column_by_name(column)
            .filter(|a| a.data_type() == &DataType::Utf8)
            .map(AsArray::as_string::<i32>)
    }

    fn int(&self, column: &str) -> Option<&Int32Array> {
        self.batch
            .column_by_name(column)
            .filter(|a| a.data_type() == &DataType::Int32)
            .map(AsArray::as_primitive::<Int32Type>)
    }
}

fn text_at(a: Option<&StringArray>, i: usize) -> Option<&str> {
    a.filter(|a| a.is_valid(i)).map(|a| a.value(i))
}

impl Anonymizer {
    /// Rewrites the columns of `columns` (the batch's output, in `schema`'s order) that a
    /// rule of `table` covers; `source` is the batch as read (its `NAME`, `DATA_TYPE`,
    /// `SS_TYPE` and owner columns select value rows). Counts go to `counts`.
    pub(crate) fn apply(
        &self,
        table: &str,
        source: &RecordBatch,
        schema: &Schema,
        columns: &mut [ArrayRef],
        counts: &mut TableCounts,
    ) -> Result<()> {
        let Some(list) = self.tables.get(table) else {
            return Ok(());
        };
        let ctx = RowContext {
            name: None,
            data_type: None,
            ss_type: None,
            batch: source,
        };
        let ctx = RowContext {
            name: ctx.text(c::NAME),
            data_type: ctx.text(c::DATA_TYPE),
            ss_type: ctx.text(c::SS_TYPE),
            ..ctx
        };
        for rules in list {
            let found = schema
                .fields()
                .iter()
                .position(|f| f.name().eq_ignore_ascii_case(&rules.column));
            let Some(index) = found else {
                return Err(column_error(
                    table,
                    rules,
                    "is missing from a part of the extract",
                ));
            };
            if columns[index].data_type() != &DataType::Utf8 {
                return Err(column_error(
                    table,
                    rules,
                    "is not text in a part of the extract",
                ));
            }
            // What selects a value row must be readable, or a rule would select nothing (or
            // an entity reference) without anyone knowing: refuse instead.
            if let Some(what) = unreadable_selectors(rules, &ctx) {
                return Err(column_error(table, rules, what));
            }
            let nullable = schema.field(index).is_nullable();
            if let Some(out) = self.column(rules, &ctx, &columns[index], nullable, counts) {
                columns[index] = out;
            }
        }
        Ok(())
    }

    /// `col` through `rules`; `None` when no row is selected (the column stays as it is).
    fn column(
        &self,
        rules: &ColumnRules,
        ctx: &RowContext<'_>,
        col: &ArrayRef,
        nullable: bool,
        counts: &mut TableCounts,
    ) -> Option<ArrayRef> {
        let base = col.as_string::<i32>();
        let picks = pick(rules, ctx, base, counts);
        if picks.iter().all(|&p| p == NONE) {
            return None;
        }
        let mut changed = vec![0u64; rules.rules.len()];
        let mut out = StringBuilder::with_capacity(base.len(), base.values().len());
        let mut repeats = Repeats::new();
        for (i, &p) in picks.iter().enumerate() {
            if base.is_null(i) {
                out.append_null();
                continue;
            }
            let value = base.value(i);
            let Some(rule) = rules.rules.get(usize::from(p)) else {
                out.append_value(value);
                continue;
            };
            changed[usize::from(p)] += u64::from(!value.is_empty());
            if rule.method == AnonMethod::Clear {
                if nullable {
                    out.append_null();
                } else {
                    out.append_value("");
                }
                continue;
            }
            if value.is_empty() {
                out.append_value("");
                continue;
            }
            let slot = Repeats::slot(value, p);
            if repeats.reuse(slot, (base, i), p, &mut out) {
                continue;
            }
            let start = out.values_slice().len();
            let mac = self.hash.mac(value.as_bytes());
            // Writing into a builder cannot fail.
            let _ = render(rule.method, &mac, value, rules.max_len, &mut out);
            out.append_value("");
            repeats.remember(slot, i, p, (start, out.values_slice().len()));
        }
        for (rule, n) in rules.rules.iter().zip(changed) {
            if n > 0 {
                *counts.anonymized.entry(rule.key.clone()).or_default() += n;
            }
        }
        Some(Arc::new(out.finish()))
    }
}

/// Each row's rule (its index in `rules`), or [`NONE`]; entity-reference typed values of a
/// value column are counted as skipped by the rule that selected them, and left alone.
fn pick(
    rules: &ColumnRules,
    ctx: &RowContext<'_>,
    base: &StringArray,
    counts: &mut TableCounts,
) -> Vec<u16> {
    let owners: Vec<Option<&Int32Array>> = rules
        .rules
        .iter()
        .map(|r| r.owners.as_ref().and_then(|o| ctx.int(o.column)))
        .collect();
    let mut skipped = vec![0u64; rules.rules.len()];
    let picks = (0..base.len())
        .map(|i| {
            if base.is_null(i) {
                return NONE;
            }
            let Some(k) = rules
                .rules
                .iter()
                .zip(&owners)
                .position(|(r, owner)| selects(r, ctx, *owner, i))
            else {
                return NONE;
            };
            if rules.values && is_entity_row(ctx, i) {
                skipped[k] += 1;
                return NONE;
            }
            u16::try_from(k).unwrap_or(NONE)
        })
        .collect();
    for (rule, n) in rules.rules.iter().zip(skipped) {
        if n > 0 {
            *counts
                .anonymize_skipped
                .entry(rule.key.clone())
                .or_default() += n;
        }
    }
    picks
}

/// What a rule of `rules` needs to select rows that the batch lacks (as text or INT), if
/// anything: the value type on a value column, the parameter name, the owner.
fn unreadable_selectors(rules: &ColumnRules, ctx: &RowContext<'_>) -> Option<&'static str> {
    if rules.values && ctx.ss_type.is_none() && ctx.data_type.is_none() {
        return Some("has rows whose `SS_TYPE` and `DATA_TYPE` are both missing or not text");
    }
    for r in &rules.rules {
        if r.name.is_some() && ctx.name.is_none() {
            return Some("has rows whose `NAME` is missing or not text");
        }
        if let Some(o) = &r.owners {
            if ctx.int(o.column).is_none() {
                return Some("has rows whose owner column is missing or not INT");
            }
        }
        if r.data_type.is_some() && ctx.ss_type.is_none() && ctx.data_type.is_none() {
            return Some("has rows whose `SS_TYPE` and `DATA_TYPE` are both missing or not text");
        }
    }
    None
}

/// Whether `rule` selects row `i`.
fn selects(rule: &Selector, ctx: &RowContext<'_>, owner: Option<&Int32Array>, i: usize) -> bool {
    let same = |want: &Option<String>, have: Option<&str>| match want {
        None => true,
        Some(w) => have.is_some_and(|h| h.eq_ignore_ascii_case(w)),
    };
    if !same(&rule.name, text_at(ctx.name, i)) {
        return false;
    }
    let data_type = text_at(ctx.data_type, i).or_else(|| text_at(ctx.ss_type, i));
    if !same(&rule.data_type, data_type) {
        return false;
    }
    match &rule.owners {
        None => true,
        Some(o) => owner.is_some_and(|a| a.is_valid(i) && o.ids.contains(&a.value(i))),
    }
}

/// Whether row `i` holds an entity reference (by its `SS_TYPE` or `DATA_TYPE`).
fn is_entity_row(ctx: &RowContext<'_>, i: usize) -> bool {
    [ctx.ss_type, ctx.data_type]
        .into_iter()
        .any(|a| text_at(a, i).is_some_and(AnonRule::is_entity_type))
}

fn column_error(table: &str, rules: &ColumnRules, what: &str) -> Error {
    let first = rules
        .rules
        .first()
        .map_or_else(String::new, |r| r.key.clone());
    Error::Anonymize {
        rule: first,
        column: format!("{table}.{}", rules.column),
        message: format!(
            "the column {what}; run `bptmig extract` again so that every part has it as text"
        ),
    }
}
