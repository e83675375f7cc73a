//! The rules `[anonymize]` refuses when the pipeline is read: what they select is not
//! personal data but what the migration itself stands on (keys, foreign keys, the
//! definition's copies, the type of a value), or lies outside what bptmig moves.

use crate::catalog::{self as c, ColumnRole, TableRole};

use super::AnonRule;

/// The known columns a rule may select: free text a person wrote or a process computed.
/// `*_VALUE` columns (an entity-reference role) are allowed too, their entity-reference
/// typed values always left out ([`is_entity_type`]).
const TEXT_COLUMNS: &[(&str, &str)] = &[(c::PROCESS, c::LABEL), (c::ACTIVITY, c::INBOX_DETAIL)];

/// Known columns that copy the definition (a parameter's name and type, an activity's name,
/// the outcome of a link): they say which definition a row belongs to.
const DEFINITION_COPIES: &[&str] = &[c::NAME, c::DATA_TYPE, c::PRECEDENT_OUTCOME];

/// Whether `data_type` (an `SS_TYPE` or `DATA_TYPE`) names an entity reference
/// (`bt<eSpace SS_KEY>*<entity SS_KEY>`, or `rtEntityReference`).
pub(super) fn is_entity_type(data_type: &str) -> bool {
    let bt = data_type.len() > 2
        && data_type.as_bytes()[..2].eq_ignore_ascii_case(b"bt")
        && data_type.contains('*');
    bt || data_type.eq_ignore_ascii_case("rtEntityReference")
}

/// Why `rule` is refused, as (key of the rule, message), if it is.
pub(super) fn refusal(rule: &AnonRule) -> Option<(&'static str, String)> {
    let (table, column) = (rule.table.as_str(), rule.column.as_str());
    let value_column = match table_refusal(table) {
        Some(message) => return Some(("column", message)),
        None => column_refusal(table, column),
    };
    let is_value = match value_column {
        Err(message) => return Some(("column", message)),
        Ok(is_value) => is_value,
    };
    let filters = [
        ("definition", &rule.definition),
        ("name", &rule.name),
        ("data_type", &rule.data_type),
    ];
    if let Some((key, _)) = filters.iter().find(|(_, v)| v.is_some()) {
        if !is_value {
            return Some((
                key,
                format!(
                    "`{key}` selects process inputs and outputs and activity outputs by \
                     their definition, parameter name or data type: it applies only to \
                     `INPUT_VALUE` or `OUTPUT_VALUE` of `{}`, `{}` or `{}`, not to \
                     `{table}.{column}`; remove it",
                    c::PROCESS_INPUT,
                    c::PROCESS_OUTPUT,
                    c::ACTIVITY_OUTPUT
                ),
            ));
        }
    }
    match &rule.data_type {
        Some(t) if is_entity_type(t) => Some((
            "data_type",
            format!(
                "`{t}` is an entity-reference type: such values hold identifiers that the \
                 transform maps, and are never anonymised; select a basic type such as \
                 \"rtText\" or \"rtEmail\""
            ),
        )),
        _ => None,
    }
}

/// Why `table` cannot be anonymised, if it cannot.
fn table_refusal(table: &str) -> Option<String> {
    let moved = || {
        c::INSTANCE_TABLES
            .iter()
            .map(|t| format!("`{}`", t.name))
            .collect::<Vec<_>>()
            .join(", ")
    };
    if c::is_osevt(table) {
        return Some(format!(
            "`{table}` is an event subscription table: it holds only references (the activity, \
             the definition, the entity's filter identifiers), which are never anonymised; \
             anonymise one of {}",
            moved()
        ));
    }
    match c::table(table) {
        Some(t) if t.role == TableRole::Instance => None,
        _ => Some(format!(
            "`{table}` is not an instance table bptmig moves; use one of {}",
            moved()
        )),
    }
}

/// Whether `table.column` may be anonymised: `Ok(true)` for an input/output value column,
/// `Ok(false)` for other allowed columns (free text, or a column the catalog does not know,
/// checked against the extract by the transform), `Err` saying why not.
fn column_refusal(table: &str, column: &str) -> Result<bool, String> {
    let Some(model) = c::table(table) else {
        return Ok(false);
    };
    let Some(col) = model.column(column) else {
        return Ok(false);
    };
    let (t, name) = (model.name, col.name);
    let why = match col.role {
        ColumnRole::EntityRefValue { .. } => return Ok(true),
        ColumnRole::Key => "is the table's key".to_owned(),
        ColumnRole::Fk { table: to, .. } => format!("is a foreign key to `{to}`"),
        ColumnRole::SsKey => "is `SS_KEY`, the key of the row's definition".to_owned(),
        ColumnRole::SchedulerState => {
            "is scheduler state; `[transform] clear_scheduler_locks` clears it".to_owned()
        }
        ColumnRole::Value if TEXT_COLUMNS.contains(&(t, name)) => return Ok(false),
        ColumnRole::Value if name == c::SS_TYPE => {
            "is `SS_TYPE`, the type of the row's value (it decides which values hold \
             identifiers)"
                .to_owned()
        }
        ColumnRole::Value if DEFINITION_COPIES.contains(&name) => {
            "is a definition column (a copy of the definition's name, type or outcome)".to_owned()
        }
        ColumnRole::Value if name == c::LAST_ERROR_ID => {
            "is a key into the platform's error log".to_owned()
        }
        ColumnRole::Value => {
            "is a date, flag or counter the platform writes, not free text".to_owned()
        }
    };
    let allowed: Vec<String> = TEXT_COLUMNS
        .iter()
        .map(|(t, c)| format!("`{t}.{c}`"))
        .collect();
    Err(format!(
        "`{t}.{name}` {why} and can never be anonymised; anonymise {}, the `INPUT_VALUE` / \
         `OUTPUT_VALUE` of inputs and outputs, or a carried column the catalog does not know",
        allowed.join(", ")
    ))
}
