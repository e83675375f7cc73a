//! The query of the selected top-level processes, from the pipeline's `[selection]`.

use std::collections::HashSet;

use bptmig_db::{self as db, quote_ident, Side, SqlClient};
use bptmig_model::catalog as c;
use bptmig_model::pipeline::Selection;

use super::select_trees;
use crate::{Error, Result};

/// Which processes are top-level: those without parent and those whose `TOP_PROCESS_ID` is
/// their own ID (the BPT API's top-level processes).
pub(crate) const TOP_LEVEL: &str = "(P.[PARENT_PROCESS_ID] IS NULL OR P.[TOP_PROCESS_ID] = P.ID)";

/// The selection's conditions on a process `P` (its status, creation time, tenant and
/// definition), with the parameters they number from `@P1`: the names as the source spells
/// them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Filters {
    pub conditions: Vec<String>,
    pub params: Vec<String>,
}

impl Filters {
    /// The conditions joined by `AND`, after `TOP_LEVEL` or an ID list.
    fn after(&self, first: String) -> String {
        std::iter::once(first)
            .chain(self.conditions.iter().cloned())
            .collect::<Vec<_>>()
            .join(" AND ")
    }

    /// The query of the selected top-level processes' IDs, with no ORDER BY.
    pub(crate) fn roots_sql(&self) -> String {
        format!(
            "SELECT P.ID FROM {} P WHERE {}",
            c::PROCESS,
            self.after(TOP_LEVEL.to_owned())
        )
    }

    /// The query of those of `ids` that the conditions select, top-level or not.
    pub(crate) fn among_sql(&self, ids: &[i32]) -> String {
        let list: Vec<String> = ids.iter().map(i32::to_string).collect();
        format!(
            "SELECT P.ID FROM {} P WHERE {}",
            c::PROCESS,
            self.after(format!("P.ID IN ({})", list.join(", ")))
        )
    }

    /// Whether the selection asks for every process (no condition at all).
    pub(crate) fn is_empty(&self) -> bool {
        self.conditions.is_empty()
    }
}

/// The query of the selected top-level processes' IDs (`SELECT P.ID FROM … P WHERE …`, no
/// ORDER BY) and its parameters. Fails when the selection names something the source lacks.
pub async fn roots_query(client: &mut SqlClient, sel: &Selection) -> Result<(String, Vec<String>)> {
    let filters = filters(client, sel).await?;
    Ok((filters.roots_sql(), filters.params))
}

/// The selection's conditions, its names matched case-insensitively to the source's (every
/// source spelling of a name is selected). Fails when the selection names something the
/// source lacks.
pub(crate) async fn filters(client: &mut SqlClient, sel: &Selection) -> Result<Filters> {
    let names = resolve_selection_names(client, sel).await?;
    let mut params: Vec<String> = Vec::new();
    let mut conditions = Vec::new();
    if !names.statuses.is_empty() {
        let list = in_list(&mut params, &names.statuses);
        conditions.push(format!(
            "P.STATUS_ID IN (SELECT ID FROM {} WHERE NAME IN ({list}))",
            c::PROCESS_STATUS
        ));
    }
    if let Some(from) = &sel.created_from {
        conditions.push(format!(
            "P.CREATED >= CAST('{}' AS DATETIME)",
            iso_literal(from)
        ));
    }
    if let Some(to) = &sel.created_to {
        conditions.push(format!(
            "P.CREATED < CAST('{}' AS DATETIME)",
            iso_literal(to)
        ));
    }
    if !names.tenants.is_empty() {
        let list = in_list(&mut params, &names.tenants);
        conditions.push(format!(
            "P.TENANT_ID IN (SELECT ID FROM {} WHERE NAME IN ({list}))",
            c::TENANT
        ));
    }
    if let Some(defs) = definition_filter(&mut params, &names, sel.include_inactive_definitions) {
        conditions.push(defs);
    }
    Ok(Filters { conditions, params })
}

/// The condition on `P.PROCESS_DEF_ID` that the definitions, eSpaces and activity flag of
/// the selection ask for, if any.
fn definition_filter(
    params: &mut Vec<String>,
    names: &Names,
    include_inactive: bool,
) -> Option<String> {
    let mut def_filters = Vec::new();
    if !names.process_definitions.is_empty() {
        let list = in_list(params, &names.process_definitions);
        def_filters.push(format!("NAME IN ({list})"));
    }
    if !names.espaces.is_empty() {
        let list = in_list(params, &names.espaces);
        def_filters.push(format!(
            "ESPACE_ID IN (SELECT ID FROM {} WHERE NAME IN ({list}))",
            c::ESPACE
        ));
    }
    if !include_inactive {
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

/// The selection's names as the source spells them.
#[derive(Debug, Default)]
struct Names {
    statuses: Vec<String>,
    tenants: Vec<String>,
    process_definitions: Vec<String>,
    espaces: Vec<String>,
}

/// Every name of `sel` as the source spells it; refuses every name the source does not have.
async fn resolve_selection_names(client: &mut SqlClient, sel: &Selection) -> Result<Names> {
    Ok(Names {
        statuses: resolve_names(
            client,
            "selection.statuses",
            c::PROCESS_STATUS,
            &sel.statuses,
        )
        .await?,
        tenants: resolve_names(client, "selection.tenants", c::TENANT, &sel.tenants).await?,
        process_definitions: resolve_names(
            client,
            "selection.process_definitions",
            c::PROCESS_DEFINITION,
            &sel.process_definitions,
        )
        .await?,
        espaces: resolve_names(client, "selection.espaces", c::ESPACE, &sel.espaces).await?,
    })
}

/// The source's spellings of `names` in `table.NAME`, matched case-insensitively whatever
/// the server's collation. Refuses names that do not exist in the source: a typo must not
/// silently select nothing.
async fn resolve_names(
    client: &mut SqlClient,
    key: &'static str,
    table: &str,
    names: &[String],
) -> Result<Vec<String>> {
    if names.is_empty() {
        return Ok(Vec::new());
    }
    let rows = db::query_rows(
        client,
        Side::Source,
        &format!("SELECT DISTINCT NAME FROM {table}"),
        &[],
    )
    .await?;
    let known: Vec<String> = rows.iter().filter_map(|r| db::text_cell(r, 0)).collect();
    match_names(names, known).map_err(|(unknown, known)| Error::UnknownNames {
        key,
        unknown: unknown.join("`, `"),
        known: known.join("`, `"),
    })
}

/// The spellings in `known` of each of `names`, ignoring case, in `known`'s sorted order;
/// or the names not known, and every known name, sorted.
fn match_names(
    names: &[String],
    mut known: Vec<String>,
) -> std::result::Result<Vec<String>, (Vec<String>, Vec<String>)> {
    known.sort();
    let folded: Vec<String> = names.iter().map(|n| n.to_lowercase()).collect();
    let unknown: Vec<String> = names
        .iter()
        .zip(&folded)
        .filter(|(_, f)| !known.iter().any(|k| k.to_lowercase() == **f))
        .map(|(n, _)| n.clone())
        .collect();
    if !unknown.is_empty() {
        return Err((unknown, known));
    }
    Ok(known
        .into_iter()
        .filter(|k| folded.contains(&k.to_lowercase()))
        .collect())
}

/// The selected top-level processes of whole trees (those of broken trees left out, whatever
/// the policy) with their `LAST_MODIFIED` as ISO text (style 126), for `bptmig check` to ask
/// the target's tree ledger which of them it already received.
pub async fn selected_roots(
    client: &mut SqlClient,
    sel: &Selection,
) -> Result<Vec<(i32, Option<String>)>> {
    let whole: HashSet<i32> = select_trees(client, sel).await?.roots.into_iter().collect();
    let filters = filters(client, sel).await?;
    let last_modified = format!(
        "CONVERT(VARCHAR(33), P.{}, 126)",
        quote_ident(c::LAST_MODIFIED)
    );
    // The roots query selects `P.ID` first; read the timestamp beside it in the same pass.
    let roots = filters.roots_sql();
    let sql = match roots.strip_prefix("SELECT P.ID ") {
        Some(rest) => format!("SELECT P.ID, {last_modified} {rest}"),
        None => format!(
            "SELECT P.ID, {last_modified} FROM {} P WHERE P.ID IN ({roots})",
            c::PROCESS
        ),
    };
    let refs: Vec<&dyn db::ToSql> = filters.params.iter().map(|p| p as &dyn db::ToSql).collect();
    let rows = db::query_rows(client, Side::Source, &sql, &refs).await?;
    Ok(rows
        .iter()
        .filter_map(|r| {
            Some((
                i32::try_from(db::int_cell(r, 0)?).ok()?,
                db::text_cell(r, 1),
            ))
        })
        .filter(|(id, _)| whole.contains(id))
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

    fn strings(names: &[&str]) -> Vec<String> {
        names.iter().map(|&n| n.to_owned()).collect()
    }

    #[test]
    fn names_match_the_source_spellings_whatever_their_case() {
        let known = strings(&["Closed", "Active", "Terminated"]);
        assert_eq!(
            match_names(&strings(&["closed", "TERMINATED"]), known.clone()),
            Ok(strings(&["Closed", "Terminated"]))
        );
        assert_eq!(
            match_names(&strings(&["closed", "Gone", "gone"]), known),
            Err((
                strings(&["Gone", "gone"]),
                strings(&["Active", "Closed", "Terminated"])
            ))
        );
        // Every spelling the source has of a name is selected.
        assert_eq!(
            match_names(&strings(&["acme"]), strings(&["ACME", "Acme", "Globex"])),
            Ok(strings(&["ACME", "Acme"]))
        );
    }

    #[test]
    fn roots_are_processes_without_parent_or_their_own_top_and_filters_apply_to_any_list() {
        assert!(TOP_LEVEL.contains(&format!("[{}] IS NULL", c::PARENT_PROCESS_ID)));
        assert!(TOP_LEVEL.contains(&format!("[{}] = P.ID", c::TOP_PROCESS_ID)));
        let filters = Filters {
            conditions: vec!["P.TENANT_ID IN (SELECT ID FROM T WHERE NAME IN (@P1))".to_owned()],
            params: strings(&["Acme"]),
        };
        assert_eq!(
            filters.roots_sql(),
            format!(
                "SELECT P.ID FROM {} P WHERE {TOP_LEVEL} AND P.TENANT_ID IN (SELECT ID FROM T \
                 WHERE NAME IN (@P1))",
                c::PROCESS
            )
        );
        assert_eq!(
            filters.among_sql(&[3, 4]),
            format!(
                "SELECT P.ID FROM {} P WHERE P.ID IN (3, 4) AND P.TENANT_ID IN (SELECT ID FROM \
                 T WHERE NAME IN (@P1))",
                c::PROCESS
            )
        );
        assert!(!filters.is_empty());
    }
}
