//! Definitions, users, groups and tenants that the selected trees use: mapped, or covered by
//! the pipeline's policies.

use bptmig_db::Transient as _;
use bptmig_model::catalog as c;
use bptmig_model::pipeline::{mask_secrets, UnmappedDefinition};
use bptmig_model::PipelineConfig;
use bptmig_transform::coverage::Coverage;

use super::line::{describe, line, list, one_line, Line, Verdict};
use super::server::{both, failed_on, Server};
use super::Selected;

/// Definitions, users, groups and tenants that the selected trees reference: mapped, or
/// covered by the pipeline's policies.
pub async fn mapping(
    config: &PipelineConfig,
    source: &mut Server<'_>,
    target: &mut Server<'_>,
    selected: &mut Selected,
    out: &mut Vec<Line>,
) {
    const SELECTION: &str = "selection";
    const COVERAGE: &str = "mapping coverage";
    let Some((s, t)) = both(source, target, SELECTION, out) else {
        return;
    };
    let used = match selected.get(s, &config.selection).await {
        Ok(read) => bptmig_extract::selection::used_ids(s, &read.names, &read.trees.roots).await,
        Err(e) => {
            let text = describe(e);
            return out.push(extract_failed(source, target, SELECTION, e, text));
        }
    };
    let used = match used {
        Ok(u) => u,
        Err(e) => {
            let text = describe(&e);
            return out.push(extract_failed(source, target, SELECTION, &e, text));
        }
    };
    let snaps = match super::snapshots::snapshots(config, s, t, "mapping").await {
        Ok(snaps) => snaps,
        Err(e) => {
            let text = mask_secrets(&e.to_string());
            out.push(extract_failed(source, target, COVERAGE, &e, text));
            return;
        }
    };
    let coverage =
        match bptmig_transform::coverage::coverage(config, &snaps.source, &snaps.target, &used) {
            Ok(c) => c,
            Err(e) => {
                out.push(line(COVERAGE, Verdict::Block, mask_secrets(&e.to_string())));
                return;
            }
        };
    let skip_tree = config.mapping.unmapped_definition == UnmappedDefinition::SkipTree;
    let definitions_missing = !coverage.unmapped_definitions.is_empty();
    out.push(definitions_line(&coverage, skip_tree));
    out.push(principals_line(&coverage, skip_tree && definitions_missing));
}

/// The line of `check`, which failed with the extract's `error`: "could not tell" when a
/// server did not answer ([`Server::failed`]), else BLOCK with `text`.
fn extract_failed(
    source: &mut Server<'_>,
    target: &mut Server<'_>,
    check: &str,
    error: &bptmig_extract::Error,
    text: String,
) -> Line {
    match error {
        bptmig_extract::Error::Db(e) if e.fault().is_some() => failed_on(source, target, check, e),
        _ => line(check, Verdict::Block, text),
    }
}

/// Whether every definition the trees use has a match in the target, process definitions
/// first: they decide which trees move.
fn definitions_line(coverage: &Coverage, skip_tree: bool) -> Line {
    const DEFS: &str = "definitions mapped";
    let mut missing = coverage.unmapped_definitions.clone();
    missing.sort_by_key(|d| {
        (
            d.table != c::PROCESS_DEFINITION,
            d.table.clone(),
            d.source_id,
        )
    });
    if missing.is_empty() {
        return line(
            DEFS,
            Verdict::Ok,
            format!(
                "all {} definitions the selected trees use exist in the target (by SS_KEY)",
                coverage.definitions_used
            ),
        );
    }
    let names = list(
        missing
            .iter()
            .map(|d| format!("`{}` ({} #{})", d.name, d.table, d.source_id)),
    );
    if skip_tree {
        line(
            DEFS,
            Verdict::Note,
            format!(
                "{} of {} have no match in the target; `skip-tree` will leave their trees \
                 out: {names}",
                missing.len(),
                coverage.definitions_used
            ),
        )
    } else {
        line(
            DEFS,
            Verdict::Block,
            format!(
                "{} of {} have no match in the target: {names}; publish them there or set \
                 `mapping.unmapped_definition = \"skip-tree\"`",
                missing.len(),
                coverage.definitions_used
            ),
        )
    }
}

/// Whether every user, group and tenant the trees use resolves. `trees_skipped`: skip-tree
/// leaves trees out, and those may hold the unmapped principals, so the transform may not
/// refuse after all.
fn principals_line(coverage: &Coverage, trees_skipped: bool) -> Line {
    const PRINCIPALS: &str = "users, groups, tenants mapped";
    match &coverage.principals {
        Ok(r) if r.unmapped.is_empty() => line(
            PRINCIPALS,
            Verdict::Ok,
            format!(
                "{} tenant(s), {} user(s), {} group(s): by the mapping file or by name",
                r.how.tenants.total(),
                r.how.users.total(),
                r.how.groups.total()
            ),
        ),
        Ok(r) => line(
            PRINCIPALS,
            Verdict::Note,
            format!(
                "{} user(s)/group(s) have no match and fall to the policy (`unmapped_user`, \
                 `unmapped_group`): {}",
                r.unmapped.len(),
                list(r.unmapped.iter().map(ToString::to_string))
            ),
        ),
        Err(e) => line(
            PRINCIPALS,
            if trees_skipped
                && matches!(
                    e,
                    bptmig_transform::principals::MappingError::Unmapped { .. }
                )
            {
                Verdict::Note
            } else {
                Verdict::Block
            },
            one_line(&describe(e)),
        ),
    }
}
