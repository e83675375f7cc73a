//! The columns of a subscription table after its six fixed ones, typed from the source's
//! `OSSYS_ENTITY_ATTR` ([`crate::refs::OsevtTypes`]).
//!
//! NULL (and `0`) in a filter column means "any record": writing NULL for an identifier
//! that cannot be mapped would widen the subscription. So under `unmoved_reference = "null"`
//! the row is left behind instead (counted in `subscriptions_dropped`); `keep` keeps the
//! value, `fail` stops the transform.

use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, AsArray, Int32Array, PrimitiveArray, StringArray, StringBuilder,
};
use arrow::datatypes::{ArrowPrimitiveType, DataType, Int32Type, Int64Type};
use bptmig_model::pipeline::UnmovedReference;

use super::outcome::{of_int, of_text, Lookup, Outcome, Unmoved};
use super::source_key;
use crate::plan::TransformPlan;
use crate::refs::{ColumnType, Target};
use crate::report::TableCounts;

/// The rows of a batch to leave behind, once a column asked for one.
#[derive(Debug, Default)]
pub(crate) struct Dropped(Option<Vec<bool>>);

impl Dropped {
    fn mark(&mut self, rows: usize, i: usize) {
        let v = self.0.get_or_insert_with(|| vec![false; rows]);
        v[i] = true;
    }

    /// The rows to keep, when some are to be left behind.
    pub(crate) fn keep_mask(&self) -> Option<arrow::array::BooleanArray> {
        self.0
            .as_ref()
            .map(|d| d.iter().map(|dropped| Some(!dropped)).collect())
    }
}

/// What a column's rewrite shares.
struct Column<'a> {
    plan: &'a TransformPlan,
    entity: usize,
    lookup: Lookup<'a>,
    source_keys: Option<&'a Int32Array>,
}

/// Column `name` of subscription table `table`, through the map its type names; a column
/// without one is kept and counted in `columns_kept`.
pub(crate) fn rewrite_osevt_column(
    table: &str,
    name: &str,
    col: &ArrayRef,
    plan: &TransformPlan,
    source_keys: Option<&Int32Array>,
    counts: &mut TableCounts,
    dropped: &mut Dropped,
) -> ArrayRef {
    let kept = |counts: &mut TableCounts| {
        let n = (col.len() - col.null_count()) as u64;
        if n > 0 {
            *counts.columns_kept.entry(name.to_owned()).or_default() += n;
        }
        col.clone()
    };
    let entity = match plan.refs.osevt.column(table, name) {
        ColumnType::Plain => return col.clone(),
        ColumnType::Unknown => return kept(counts),
        ColumnType::Ref(e) => e,
    };
    let Some(target) = plan.refs.entities.get(entity).map(|e| &e.target) else {
        return kept(counts);
    };
    if matches!(target, Target::Other(None)) {
        return kept(counts);
    }
    let c = Column {
        plan,
        entity,
        lookup: Lookup::of(plan, target),
        source_keys,
    };
    let mut sink = Sink {
        unmoved: Unmoved::new(name, plan),
        counts,
        dropped,
        rows: col.len(),
    };
    let out = match col.data_type() {
        DataType::Int32 => c.ints::<Int32Type>(col.as_primitive(), &mut sink),
        DataType::Int64 => c.ints::<Int64Type>(col.as_primitive(), &mut sink),
        DataType::Utf8 => c.texts(col.as_string(), &mut sink),
        _ => None,
    };
    let Sink {
        unmoved, counts, ..
    } = sink;
    unmoved.record(counts);
    match out {
        Some(a) => a,
        None if matches!(
            col.data_type(),
            DataType::Int32 | DataType::Int64 | DataType::Utf8
        ) =>
        {
            col.clone()
        }
        None => kept(counts),
    }
}

/// Where a column's rewrite records what it did.
struct Sink<'a, 'c> {
    unmoved: Unmoved<'a>,
    counts: &'c mut TableCounts,
    dropped: &'c mut Dropped,
    rows: usize,
}

impl Column<'_> {
    /// What `outcome` of row `i` (value `v`) makes of the row: the new value, if any.
    fn decide(
        &self,
        outcome: Outcome,
        i: usize,
        v: &dyn std::fmt::Display,
        sink: &mut Sink,
    ) -> Option<i64> {
        match outcome {
            Outcome::Null => None,
            Outcome::Mapped(n) => {
                sink.counts.entity_refs_mapped += 1;
                Some(n)
            }
            Outcome::Kept => {
                let table = self.plan.refs.entities.get(self.entity);
                let table = table.map_or_else(|| "?".to_owned(), |e| e.table.clone());
                *sink.counts.entity_refs_kept.entry(table).or_default() += 1;
                None
            }
            Outcome::Unmoved(reason) => {
                let row = source_key(self.source_keys, i);
                sink.unmoved.note(self.entity, row, v, reason, sink.counts);
                if sink.unmoved.policy == UnmovedReference::Null {
                    sink.dropped.mark(sink.rows, i);
                }
                None
            }
        }
    }

    /// An integer column; `None` when nothing changed.
    fn ints<T: ArrowPrimitiveType>(
        &self,
        a: &PrimitiveArray<T>,
        sink: &mut Sink,
    ) -> Option<ArrayRef>
    where
        T::Native: Into<i64> + TryFrom<i64> + Copy,
    {
        let mut values: Vec<T::Native> = a.values().to_vec();
        let mut changed = false;
        for (i, slot) in values.iter_mut().enumerate() {
            if a.is_null(i) {
                continue;
            }
            let v: i64 = (*slot).into();
            let outcome = of_int(v, self.lookup);
            let outcome = match outcome {
                Outcome::Mapped(n) if T::Native::try_from(n).is_err() => {
                    Outcome::Unmoved(crate::report::UnmovedReason::NoMatch)
                }
                o => o,
            };
            if let Some(n) = self.decide(outcome, i, &v, sink) {
                if let Ok(n) = T::Native::try_from(n) {
                    *slot = n;
                    changed = true;
                }
            }
        }
        changed.then(|| {
            Arc::new(PrimitiveArray::<T>::new(values.into(), a.nulls().cloned())) as ArrayRef
        })
    }

    /// A text column holding identifiers; `None` when nothing changed.
    fn texts(&self, a: &StringArray, sink: &mut Sink) -> Option<ArrayRef> {
        let mut b = StringBuilder::with_capacity(a.len(), a.value_data().len());
        let mut number = String::new();
        let mut changed = false;
        for i in 0..a.len() {
            if a.is_null(i) {
                b.append_null();
                continue;
            }
            let v = a.value(i);
            let outcome = of_text(v, self.lookup);
            match self.decide(outcome, i, &v, sink) {
                Some(n) => {
                    number.clear();
                    let _ = std::fmt::Write::write_fmt(&mut number, format_args!("{n}"));
                    b.append_value(&number);
                    changed = true;
                }
                None => b.append_value(v),
            }
        }
        changed.then(|| Arc::new(b.finish()) as ArrayRef)
    }
}
