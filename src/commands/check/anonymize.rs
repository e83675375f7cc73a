//! Each `[anonymize]` rule previewed on a few sample rows of the source: one line per rule
//! showing only the replacements the transform will write, never a source value.
//!
//! ```text
//! anonymize.rules[1]  note  OSSYS_BPM_PROCESS.LABEL fake:person → "Maria Jensen", "Paul Okafor" (3 sample rows)
//! ```
//!
//! The samples are the first rows (by `ID`) the rule selects: non-empty, for a value rule of
//! its `name`, `data_type` and `definition` (in any case, as the transform matches them) and
//! not entity-reference typed. The replacement fits the column's length as the source's
//! catalog gives it.

use bptmig_db::{self as db, Names, Side, SqlClient};
use bptmig_model::catalog as c;
use bptmig_model::pipeline::{AnonRule, Anonymize};
use bptmig_model::PipelineConfig;
use bptmig_transform::anonymize::Masker;

use super::line::{line, Line, Verdict};
use super::server::Server;
use super::Selected;

/// Rows each rule is previewed on.
const SAMPLES: usize = 3;
/// Rows read per rule to find them (entity-reference typed values are passed over).
const READ: usize = 50;

/// One line per rule.
pub async fn preview(
    config: &PipelineConfig,
    source: &mut Server<'_>,
    _selected: &mut Selected,
    out: &mut Vec<Line>,
) {
    let Some(anonymize) = &config.anonymize else {
        return;
    };
    let masker = Masker::new(&anonymize.key);
    for rule in &anonymize.rules {
        let check = rule.key();
        let Some(client) = source.client(&check, out) else {
            return;
        };
        match preview_rule(client, &masker, rule).await {
            Ok(text) => out.push(line(check, Verdict::Note, text)),
            Err(e) => out.push(source.failed(check, &e)),
        }
    }
    summary(anonymize, out);
}

/// What `rule` makes of its first sample rows.
async fn preview_rule(
    client: &mut SqlClient,
    masker: &Masker,
    rule: &AnonRule,
) -> db::Result<String> {
    let head = format!("{} {} →", rule.column_name(), rule.method_name());
    let names = Names::read(client, Side::Source).await?;
    let Some(table) = names.find(&rule.table)? else {
        return Ok(format!(
            "{head} nothing: the source has no table `{}`",
            rule.table
        ));
    };
    let Some((max_len, nullable)) = column_shape(client, table, &rule.column).await? else {
        return Ok(format!(
            "{head} nothing: `{table}` has no column `{}`; the transform refuses the rule",
            rule.column
        ));
    };
    let (sql, params) = sample_sql(&names, table, rule)?;
    let params: Vec<&dyn db::ToSql> = params.iter().map(|p| p as &dyn db::ToSql).collect();
    let rows = db::query_rows(client, Side::Source, &sql, &params).await?;
    let replacements: Vec<String> = rows
        .iter()
        .filter(|r| {
            let typed = |i| db::text_cell(r, i).is_some_and(|t| AnonRule::is_entity_type(&t));
            !(typed(1) || typed(2))
        })
        .filter_map(|r| db::text_cell(r, 0))
        .take(SAMPLES)
        .map(|v| match masker.mask(rule.method, &v, max_len, nullable) {
            Some(m) => format!("{m:?}"),
            None => "NULL".to_owned(),
        })
        .collect();
    if replacements.is_empty() {
        return Ok(format!(
            "{head} nothing: no source row has a value it selects"
        ));
    }
    Ok(format!(
        "{head} {} ({} sample row(s))",
        replacements.join(", "),
        replacements.len()
    ))
}

/// The column's length in characters (`None` for MAX) and nullability, as the source's
/// catalog gives them; `None` when the column does not exist.
async fn column_shape(
    client: &mut SqlClient,
    table: &str,
    column: &str,
) -> db::Result<Option<(Option<usize>, bool)>> {
    let sql = "SELECT COLUMN_NAME, CHARACTER_MAXIMUM_LENGTH, IS_NULLABLE FROM \
               INFORMATION_SCHEMA.COLUMNS WHERE TABLE_NAME = @P1";
    let rows = db::query_rows(client, Side::Source, sql, &[&table]).await?;
    Ok(rows
        .iter()
        .find(|r| db::text_cell(r, 0).is_some_and(|n| n.eq_ignore_ascii_case(column)))
        .map(|r| {
            let len = db::int_cell(r, 1)
                .filter(|n| *n > 0)
                .and_then(|n| usize::try_from(n).ok());
            let nullable = db::text_cell(r, 2).is_none_or(|t| t.eq_ignore_ascii_case("YES"));
            (len, nullable)
        }))
}

/// The statement reading `rule`'s candidate rows: the value, `SS_TYPE` and `DATA_TYPE` (or
/// NULLs where the table has none), and its parameters.
fn sample_sql(names: &Names, table: &str, rule: &AnonRule) -> db::Result<(String, Vec<String>)> {
    let col = db::quote_ident(&rule.column);
    let values = [c::PROCESS_INPUT, c::PROCESS_OUTPUT, c::ACTIVITY_OUTPUT]
        .iter()
        .any(|t| t.eq_ignore_ascii_case(table));
    let typed = if values {
        "[SS_TYPE], [DATA_TYPE]"
    } else {
        "NULL, NULL"
    };
    let mut filters = vec![format!("{col} IS NOT NULL"), format!("{col} <> N''")];
    let mut params = Vec::new();
    let param = |v: &str, params: &mut Vec<String>| {
        params.push(v.to_owned());
        format!("@P{}", params.len())
    };
    if let Some(n) = &rule.name {
        filters.push(format!("UPPER([NAME]) = UPPER({})", param(n, &mut params)));
    }
    if let Some(t) = &rule.data_type {
        filters.push(format!(
            "UPPER([DATA_TYPE]) = UPPER({})",
            param(t, &mut params)
        ));
    }
    if let Some(d) = &rule.definition {
        let p = param(d, &mut params);
        let pd = names.quoted(c::PROCESS_DEFINITION)?;
        let of_process = format!("SELECT [ID] FROM {pd} WHERE UPPER([NAME]) = UPPER({p})");
        filters.push(if table.eq_ignore_ascii_case(c::ACTIVITY_OUTPUT) {
            let (a, ad) = (
                names.quoted(c::ACTIVITY)?,
                names.quoted(c::ACTIVITY_DEFINITION)?,
            );
            format!(
                "[ACTIVITY_ID] IN (SELECT [ID] FROM {a} WHERE [ACTIVITY_DEF_ID] IN (SELECT [ID] \
                 FROM {ad} WHERE UPPER([NAME]) = UPPER({p}) OR [PROCESS_DEF_ID] IN ({of_process})))"
            )
        } else {
            let pt = names.quoted(c::PROCESS)?;
            format!(
                "[PROCESS_ID] IN (SELECT [ID] FROM {pt} WHERE [PROCESS_DEF_ID] IN ({of_process}))"
            )
        });
    }
    let sql = format!(
        "SELECT TOP ({READ}) {col}, {typed} FROM {} WHERE {} ORDER BY [ID]",
        db::quote_ident(table),
        filters.join(" AND ")
    );
    Ok((sql, params))
}

/// A closing line: how many rules, and that the key itself never shows.
fn summary(anonymize: &Anonymize, out: &mut Vec<Line>) {
    out.push(line(
        "anonymize",
        Verdict::Ok,
        format!(
            "{} rule(s), key from `${{{}}}` (never shown); the lines above show replacements only",
            anonymize.rules.len(),
            anonymize.key.var
        ),
    ));
}
