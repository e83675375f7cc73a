//! One row of a generated load's statement: its values without the key, every instance
//! reference resolved ([`GeneratedWriter::render_row`]).

use std::collections::HashMap;
use std::fmt::Write as _;

use super::refs::{held, in_ranges, parse_plain, typed_target, unresolved, Column, Held};
use super::{GeneratedWriter, Ref, Shape};
use crate::target;
use crate::writer::{ChunkError, ChunkRows};

impl GeneratedWriter {
    /// Appends `(v1, v2, …)` of row `r` without the key, its references resolved.
    pub(super) fn render_row(
        &self,
        out: &mut String,
        shape: &Shape<'_>,
        r: usize,
        pending: &HashMap<i32, usize>,
    ) -> Result<(), ChunkError> {
        let (t, batch) = (shape.rows.table, shape.rows.batch);
        out.push('(');
        let mut first = true;
        for (ci, column) in shape.columns.iter().enumerate() {
            if matches!(column, Column::Key) {
                continue;
            }
            if !first {
                out.push_str(", ");
            }
            first = false;
            let (to, fk) = match column {
                Column::Key | Column::Plain => (None, false),
                Column::Fk { to } => (Some(*to), true),
                Column::Typed { types } => {
                    (typed_target(&self.types, batch, shape.at[*types], r), false)
                }
                Column::Into { to } => (Some(to.as_str()), false),
            };
            let Some(to) = to else {
                shape
                    .rows
                    .bound
                    .render_value(out, ci, r)
                    .map_err(ChunkError::Value)?;
                continue;
            };
            let site = Site {
                column: &t.columns[ci],
                row: row_id(shape.rows, r),
                to,
                fk,
            };
            let value = held(batch, shape.at[ci], r)
                .ok_or_else(|| unresolved(site.column, site.row, 0, to))?;
            self.render_ref(out, shape, ci, r, &site, value, pending)?;
        }
        out.push(')');
        Ok(())
    }

    /// Appends the literal of an identifier `value` held at `site` (column `ci` of row `r`).
    #[expect(clippy::too_many_arguments, reason = "one value and where it stands")]
    fn render_ref(
        &self,
        out: &mut String,
        shape: &Shape<'_>,
        ci: usize,
        r: usize,
        site: &Site<'_>,
        value: Held<'_>,
        pending: &HashMap<i32, usize>,
    ) -> Result<(), ChunkError> {
        let (id, text) = match value {
            Held::Null => {
                out.push_str("NULL");
                return Ok(());
            }
            Held::Int(v) => (Some(v), false),
            Held::Text(s) => (parse_plain(s), true),
        };
        // The platform's null identifier, and text that is no identifier, stay as they are
        // (the transform kept and counted the latter).
        let Some(id) = id.filter(|&v| v != 0 || site.fk) else {
            return shape
                .rows
                .bound
                .render_value(out, ci, r)
                .map_err(ChunkError::Value);
        };
        match (self.resolve(site.to, id, pending), text) {
            (Some(Ref::Id(n)), false) => {
                let _ = write!(out, "{n}");
            }
            (Some(Ref::Id(n)), true) => {
                let _ = write!(out, "N'{n}'");
            }
            (Some(Ref::Var(k)), false) => {
                let _ = write!(out, "@i{k}");
            }
            (Some(Ref::Var(k)), true) => {
                let _ = write!(out, "CAST(@i{k} AS NVARCHAR(11))");
            }
            (None, _) => {
                let moved = self.moved.get(site.to).is_some_and(|m| in_ranges(m, id));
                if site.fk || moved {
                    return Err(unresolved(site.column, site.row, id, site.to));
                }
                // An identifier of a row this run does not move, kept by the transform.
                shape
                    .rows
                    .bound
                    .render_value(out, ci, r)
                    .map_err(ChunkError::Value)?;
            }
        }
        Ok(())
    }
}

/// Where an identifier stands: its column, its row's (transformed) ID, the table it points
/// into, and whether it is a foreign key (which must resolve).
struct Site<'a> {
    column: &'a str,
    row: i64,
    to: &'a str,
    fk: bool,
}

/// The transformed ID of row `r` of a keyed chunk (0 for a table without one).
pub(super) fn row_id(rows: &ChunkRows<'_>, r: usize) -> i64 {
    target::int_value(rows.batch, rows.table.id_column(), r).map_or(0, i64::from)
}
