//! The query of the selected top-level processes, from the pipeline's `[selection]`.

use std::collections::HashSet;

use bptmig_db::{self as db, quote_ident, Names, Side, SqlClient};
use bptmig_model::catalog as c;
use bptmig_model::pipeline::Selection;

use super::SelectedTrees;
use crate::{Error, Result};

/// Which processes are top-level: those without parent and those whose `TOP_PROCESS_ID` is
/// their own ID (the BPT API's top-level processes).
pub(crate) const TOP_LEVEL: &str = "(P.[PARENT_PROCESS_ID] IS NULL OR P.[TOP_PROCESS_ID] = P.ID)";

/// The selection's conditions on a process `P` (its status, creation time, tenant and
/// definition), with the parameters they number from `@P1`: the names, and the tables, as
/// the source spells them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Filters {
    /// The process table as the source's catalog spells it, quoted.
    pub process: String,
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
            self.process,
            self.after(TOP_LEVEL.to_owned())
        )
    }

    /// The query of those of `ids` that the conditions select, top-level or not.
    pub(crate) fn among_sql(&self, ids: &[i32]) -> String {
        let list: Vec<String> = ids.iter().map(i32::to_string).collect();
        format!(
            "SELECT P.ID FROM {} P WHERE {}",
            self.process,
            self.after(format!("P.ID IN ({})", list.join(", ")))
        )
    }

    /// Whether the selection asks for every process (no condition at all).
    pub(crate) fn is_empty(&self) -> bool {
        self.conditions.is_empty()
    }
}

/// The query of the selected top-level processes' IDs (`SELECT P.ID FROM … P WHERE …`, no
/// ORDER BY) and its parameters, its tables as `names` spells them. Fails when the selection
/// names something the source lacks.
pub async fn roots_query(
    client: &mut SqlClient,
    names: &Names,
    sel: &Selection,
) -> Result<(String, Vec<String>)> {
    let filters = filters(client, names, sel).await?;
    Ok((filters.roots_sql(), filters.params))
}

/// The selection's conditions, its names matched case-insensitively to the source's (every
/// source spelling of a name is selected), its tables as `names` spells them. Fails when the
/// selection names something the source lacks.
pub(crate) async fn filters(
    client: &mut SqlClient,
    names: &Names,
    sel: &Selection,
) -> Result<Filters> {
    let asked = resolve_selection_names(client, names, sel).await?;
    Ok(conditions(names, &asked, sel)?)
}

/// The conditions on the names `asked` (as the source spells them) and on the selection's
/// dates, the tables as `names` spells them.
pub(super) fn conditions(names: &Names, asked: &Asked, sel: &Selection) -> db::Result<Filters> {
    let mut params: Vec<String> = Vec::new();
    let mut conditions = Vec::new();
    if !asked.statuses.is_empty() {
        let list = in_list(&mut params, &asked.statuses);
        conditions.push(format!(
            "P.STATUS_ID IN (SELECT ID FROM {} WHERE NAME IN ({list}))",
            names.quoted(c::PROCESS_STATUS)?
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
    if !asked.tenants.is_empty() {
        let list = in_list(&mut params, &asked.tenants);
        conditions.push(format!(
            "P.TENANT_ID IN (SELECT ID FROM {} WHERE NAME IN ({list}))",
            names.quoted(c::TENANT)?
        ));
    }
    let include_inactive = sel.include_inactive_definitions;
    if let Some(defs) = definition_filter(&mut params, names, asked, include_inactive)? {
        conditions.push(defs);
    }
    Ok(Filters {
        process: names.quoted(c::PROCESS)?,
        conditions,
        params,
    })
}

/// The condition on `P.PROCESS_DEF_ID` that the definitions, eSpaces and activity flag of
/// the selection ask for, if any.
fn definition_filter(
    params: &mut Vec<String>,
    names: &Names,
    asked: &Asked,
    include_inactive: bool,
) -> db::Result<Option<String>> {
    let mut def_filters = Vec::new();
    if !asked.process_definitions.is_empty() {
        let list = in_list(params, &asked.process_definitions);
        def_filters.push(format!("NAME IN ({list})"));
    }
    if !asked.espaces.is_empty() {
        let list = in_list(params, &asked.espaces);
        def_filters.push(format!(
            "ESPACE_ID IN (SELECT ID FROM {} WHERE NAME IN ({list}))",
            names.quoted(c::ESPACE)?
        ));
    }
    if !include_inactive {
        def_filters.push("IS_ACTIVE = 1".to_owned());
    }
    if def_filters.is_empty() {
        return Ok(None);
    }
    Ok(Some(format!(
        "P.PROCESS_DEF_ID IN (SELECT ID FROM {} WHERE {})",
        names.quoted(c::PROCESS_DEFINITION)?,
        def_filters.join(" AND ")
    )))
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
pub(super) struct Asked {
    pub(super) statuses: Vec<String>,
    pub(super) tenants: Vec<String>,
    pub(super) process_definitions: Vec<String>,
    pub(super) espaces: Vec<String>,
}

/// Every name of `sel` as the source spells it; refuses every name the source does not have.
async fn resolve_selection_names(
    client: &mut SqlClient,
    names: &Names,
    sel: &Selection,
) -> Result<Asked> {
    let mut asked = Asked::default();
    for (key, table, values, out) in [
        (
            "selection.statuses",
            c::PROCESS_STATUS,
            &sel.statuses,
            &mut asked.statuses,
        ),
        (
            "selection.tenants",
            c::TENANT,
            &sel.tenants,
            &mut asked.tenants,
        ),
        (
            "selection.process_definitions",
            c::PROCESS_DEFINITION,
            &sel.process_definitions,
            &mut asked.process_definitions,
        ),
        (
            "selection.espaces",
            c::ESPACE,
            &sel.espaces,
            &mut asked.espaces,
        ),
    ] {
        *out = resolve_names(client, key, names, table, values).await?;
    }
    Ok(asked)
}

/// The statement that lists every name of `table`, as `names` spells it.
pub(super) fn names_sql(names: &Names, table: &str) -> db::Result<String> {
    Ok(format!(
        "SELECT DISTINCT NAME FROM {}",
        names.quoted(table)?
    ))
}

/// The source's spellings of `values` in `table.NAME` ([`names_sql`]), matched
/// case-insensitively whatever the server's collation. Refuses names that do not exist in the
/// source: a typo must not silently select nothing.
async fn resolve_names(
    client: &mut SqlClient,
    key: &'static str,
    names: &Names,
    table: &str,
    values: &[String],
) -> Result<Vec<String>> {
    if values.is_empty() {
        return Ok(Vec::new());
    }
    let sql = names_sql(names, table)?;
    let rows = db::query_rows(client, Side::Source, &sql, &[]).await?;
    let known: Vec<String> = rows.iter().filter_map(|r| db::text_cell(r, 0)).collect();
    match_names(values, known).map_err(|(unknown, known)| Error::UnknownNames {
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

/// The selected top-level processes of whole trees, `trees` ([`select_trees`]'s answer for
/// `sel`), with their `LAST_MODIFIED` as ISO text (style 126), for `bptmig check` to ask the
/// target's tree ledger which of them it already received.
///
/// [`select_trees`]: super::select_trees
pub async fn selected_roots(
    client: &mut SqlClient,
    names: &Names,
    sel: &Selection,
    trees: &SelectedTrees,
) -> Result<Vec<(i32, Option<String>)>> {
    let whole: HashSet<i32> = trees.roots.iter().copied().collect();
    let filters = filters(client, names, sel).await?;
    let sql = last_modified_sql(&filters);
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

/// The roots query with each root's `LAST_MODIFIED` beside its ID, read in the same pass.
pub(super) fn last_modified_sql(filters: &Filters) -> String {
    let last_modified = format!(
        "CONVERT(VARCHAR(33), P.{}, 126)",
        quote_ident(c::LAST_MODIFIED)
    );
    let roots = filters.roots_sql();
    match roots.strip_prefix("SELECT P.ID ") {
        Some(rest) => format!("SELECT P.ID, {last_modified} {rest}"),
        None => format!(
            "SELECT P.ID, {last_modified} FROM {} P WHERE P.ID IN ({roots})",
            filters.process
        ),
    }
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
            process: format!("[{}]", c::PROCESS),
            conditions: vec!["P.TENANT_ID IN (SELECT ID FROM T WHERE NAME IN (@P1))".to_owned()],
            params: strings(&["Acme"]),
        };
        assert_eq!(
            filters.roots_sql(),
            format!(
                "SELECT P.ID FROM [{}] P WHERE {TOP_LEVEL} AND P.TENANT_ID IN (SELECT ID FROM T \
                 WHERE NAME IN (@P1))",
                c::PROCESS
            )
        );
        assert_eq!(
            filters.among_sql(&[3, 4]),
            format!(
                "SELECT P.ID FROM [{}] P WHERE P.ID IN (3, 4) AND P.TENANT_ID IN (SELECT ID \
                 FROM T WHERE NAME IN (@P1))",
                c::PROCESS
            )
        );
        assert!(!filters.is_empty());
    }
}
