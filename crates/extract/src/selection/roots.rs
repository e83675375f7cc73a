//! The query of the selected top-level processes, from the pipeline's `[selection]`.

use bptmig_db::{self as db, quote_ident, Side, SqlClient};
use bptmig_model::catalog as c;
use bptmig_model::pipeline::Selection;

use crate::{Error, Result};

/// The query of the selected top-level processes' IDs (`SELECT P.ID FROM … P WHERE …`, no
/// ORDER BY) and its parameters. Fails when the selection names something the source lacks.
pub async fn roots_query(client: &mut SqlClient, sel: &Selection) -> Result<(String, Vec<String>)> {
    check_selection_names(client, sel).await?;
    let mut params: Vec<String> = Vec::new();
    let mut filters = vec![format!("P.{} IS NULL", quote_ident(c::PARENT_PROCESS_ID))];
    if !sel.statuses.is_empty() {
        let list = in_list(&mut params, &sel.statuses);
        filters.push(format!(
            "P.STATUS_ID IN (SELECT ID FROM {} WHERE NAME IN ({list}))",
            c::PROCESS_STATUS
        ));
    }
    if let Some(from) = &sel.created_from {
        filters.push(format!(
            "P.CREATED >= CAST('{}' AS DATETIME)",
            iso_literal(from)
        ));
    }
    if let Some(to) = &sel.created_to {
        filters.push(format!(
            "P.CREATED < CAST('{}' AS DATETIME)",
            iso_literal(to)
        ));
    }
    if !sel.tenants.is_empty() {
        let list = in_list(&mut params, &sel.tenants);
        filters.push(format!(
            "P.TENANT_ID IN (SELECT ID FROM {} WHERE NAME IN ({list}))",
            c::TENANT
        ));
    }
    if let Some(defs) = definition_filter(&mut params, sel) {
        filters.push(defs);
    }
    let sql = format!(
        "SELECT P.ID FROM {} P WHERE {}",
        c::PROCESS,
        filters.join(" AND ")
    );
    Ok((sql, params))
}

/// The condition on `P.PROCESS_DEF_ID` that `sel`'s definitions, eSpaces and activity flag
/// ask for, if any.
fn definition_filter(params: &mut Vec<String>, sel: &Selection) -> Option<String> {
    let mut def_filters = Vec::new();
    if !sel.process_definitions.is_empty() {
        let list = in_list(params, &sel.process_definitions);
        def_filters.push(format!("NAME IN ({list})"));
    }
    if !sel.espaces.is_empty() {
        let list = in_list(params, &sel.espaces);
        def_filters.push(format!(
            "ESPACE_ID IN (SELECT ID FROM {} WHERE NAME IN ({list}))",
            c::ESPACE
        ));
    }
    if !sel.include_inactive_definitions {
        def_filters.push("IS_ACTIVE = 1".to_owned());
    }
    (!def_filters.is_empty()).then(|| {
        format!(
            "P.PROCESS_DEF_ID IN (SELECT ID FROM {} WHERE {})",
            c::PROCESS_DEFINITION,
            def_filters.join(" AND ")
        )
    })
}

/// `@Pn, @Pn+1, …` for `names`, appended to `params`.
fn in_list(params: &mut Vec<String>, names: &[String]) -> String {
    let start = params.len();
    params.extend(names.iter().cloned());
    (start + 1..=params.len())
        .map(|i| format!("@P{i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `YYYY-MM-DD` or `YYYY-MM-DDTHH:MM:SS` (validated by the pipeline) as a DATETIME literal.
fn iso_literal(s: &str) -> String {
    if s.len() == 10 {
        format!("{s}T00:00:00")
    } else {
        s.replace(' ', "T")
    }
}

/// Refuses every name of `sel` that the source does not have.
async fn check_selection_names(client: &mut SqlClient, sel: &Selection) -> Result<()> {
    let lists = [
        ("selection.statuses", c::PROCESS_STATUS, &sel.statuses),
        ("selection.tenants", c::TENANT, &sel.tenants),
        (
            "selection.process_definitions",
            c::PROCESS_DEFINITION,
            &sel.process_definitions,
        ),
        ("selection.espaces", c::ESPACE, &sel.espaces),
    ];
    for (key, table, names) in lists {
        check_names(client, key, table, names).await?;
    }
    Ok(())
}

/// Refuses selection names that do not exist in the source: a typo must not silently
/// select nothing.
async fn check_names(
    client: &mut SqlClient,
    key: &'static str,
    table: &str,
    names: &[String],
) -> Result<()> {
    if names.is_empty() {
        return Ok(());
    }
    let rows = db::query_rows(
        client,
        Side::Source,
        &format!("SELECT DISTINCT NAME FROM {table}"),
        &[],
    )
    .await?;
    let known: Vec<String> = rows.iter().filter_map(|r| db::text_cell(r, 0)).collect();
    let unknown: Vec<String> = names
        .iter()
        .filter(|n| !known.contains(n))
        .cloned()
        .collect();
    if unknown.is_empty() {
        Ok(())
    } else {
        let mut known = known;
        known.sort();
        Err(Error::UnknownNames {
            key,
            unknown: unknown.join("`, `"),
            known: known.join("`, `"),
        })
    }
}

/// The selected top-level processes with their `LAST_MODIFIED` as ISO text (style 126), for
/// `bptmig check` to ask the target's tree ledger which of them it already received.
pub async fn selected_roots(
    client: &mut SqlClient,
    sel: &Selection,
) -> Result<Vec<(i32, Option<String>)>> {
    let (roots, params) = roots_query(client, sel).await?;
    let last_modified = format!(
        "CONVERT(VARCHAR(33), P.{}, 126)",
        quote_ident(c::LAST_MODIFIED)
    );
    // The roots query selects `P.ID` first; read the timestamp beside it in the same pass.
    let sql = match roots.strip_prefix("SELECT P.ID ") {
        Some(rest) => format!("SELECT P.ID, {last_modified} {rest}"),
        None => format!(
            "SELECT P.ID, {last_modified} FROM {} P WHERE P.ID IN ({roots})",
            c::PROCESS
        ),
    };
    let refs: Vec<&dyn db::ToSql> = params.iter().map(|p| p as &dyn db::ToSql).collect();
    let rows = db::query_rows(client, Side::Source, &sql, &refs).await?;
    Ok(rows
        .iter()
        .filter_map(|r| {
            Some((
                i32::try_from(db::int_cell(r, 0)?).ok()?,
                db::text_cell(r, 1),
            ))
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_become_datetime_literals_and_names_numbered_parameters() {
        assert_eq!(iso_literal("2019-01-03"), "2019-01-03T00:00:00");
        assert_eq!(iso_literal("2019-01-06 12:00:00"), "2019-01-06T12:00:00");
        let mut params = vec!["Closed".to_owned()];
        let list = in_list(&mut params, &["a".to_owned(), "b".to_owned()]);
        assert_eq!(list, "@P2, @P3");
        assert_eq!(params, ["Closed", "a", "b"]);
    }
}
