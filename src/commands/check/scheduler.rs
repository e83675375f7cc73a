//! Moved processes the target's scheduler will never run (inactive or locked definition,
//! eSpace or tenant) or run at once (open activities with a past `NEXT_RUN`), counted over the
//! source rows of the selected trees as the transform counts them in `report.json`'s
//! `scheduler` ([`bptmig_transform::scheduler`]).
//!
//! The trees are the extract's (broken trees left out), less those `unmapped_definition =
//! "skip-tree"` leaves behind; tenants map as the transform maps them (mapping file, then
//! name). Findings are notes: they do not stop a run.

use std::collections::{BTreeSet, HashSet};

use bptmig_db::{self as db, Transient as _};
use bptmig_model::catalog as c;
use bptmig_model::pipeline::UnmappedDefinition;
use bptmig_model::PipelineConfig;
use bptmig_transform::coverage::{coverage, UsedIds};
use bptmig_transform::maps::DefinitionMaps;
use bptmig_transform::principals::PrincipalMap;
use bptmig_transform::report::{SchedulerFindings, SchedulerGroup};
use bptmig_transform::scheduler::{evaluate, now_ms, Facts, Now, TargetIds};

use super::line::{describe, line, Line, Verdict};
use super::server::{both, failed_on, Server};
use super::Selected;

mod read;

use read::Source;

const NEVER: &str = "scheduler: never run";
const AT_ONCE: &str = "scheduler: runs at once";

/// Why the findings could not be made.
#[derive(Debug, thiserror::Error)]
enum Failure {
    #[error(transparent)]
    Db(#[from] db::Error),
    #[error(transparent)]
    Extract(#[from] bptmig_extract::Error),
    #[error(transparent)]
    Transform(#[from] bptmig_transform::Error),
}

/// What the lines say besides the findings.
#[derive(Debug, Default)]
struct Found {
    findings: SchedulerFindings,
    /// Flags the target lacks (`OSSYS_ESPACE.IS_LOCKED` …), not looked for.
    unchecked: Vec<String>,
    /// Why tenants were not looked at (the mapping file's problems).
    tenants_unchecked: Option<String>,
    /// The source's activities have no `NEXT_RUN`.
    no_next_run: bool,
}

/// Two lines about the selected trees: open processes that will never run in the target,
/// and open activities that its scheduler will run as soon as it sees them.
pub async fn scheduler(
    config: &PipelineConfig,
    (source, target): (&mut Server<'_>, &mut Server<'_>),
    selected: &mut Selected,
    out: &mut Vec<Line>,
) {
    let Some((s, t)) = both(source, target, NEVER, out) else {
        return;
    };
    let (names, roots) = match selected.get(s, &config.selection).await {
        Ok(read) => (read.names.clone(), read.trees.roots.clone()),
        Err(bptmig_extract::Error::Db(e)) => {
            let failed = failed_on(source, target, NEVER, e);
            return out.push(failed);
        }
        Err(e) => return out.push(line(NEVER, Verdict::Block, describe(e))),
    };
    let roots: Vec<i64> = roots.into_iter().map(i64::from).collect();
    match find(config, Source { client: s, names }, t, &roots).await {
        Ok(found) => out.extend(lines(&found)),
        Err(Failure::Db(e) | Failure::Extract(bptmig_extract::Error::Db(e)))
            if e.fault().is_some() =>
        {
            out.push(failed_on(source, target, NEVER, &e));
        }
        // Not a verdict on the trees: the run itself is not stopped by this line.
        Err(e) => out.push(line(
            NEVER,
            Verdict::Unknown,
            format!("could not tell: {}", describe(&e)),
        )),
    }
}

/// The plan's maps for the check: definitions by SS_KEY, tenants as the transform resolves
/// them (`None`: not resolved).
struct CheckIds<'a> {
    defs: &'a DefinitionMaps,
    tenants: Option<&'a PrincipalMap>,
}

impl TargetIds for CheckIds<'_> {
    fn process_definition(&self, source: i64) -> Option<i64> {
        self.defs.get(c::PROCESS_DEFINITION, source)
    }

    fn activity_definition(&self, source: i64) -> Option<i64> {
        self.defs.get(c::ACTIVITY_DEFINITION, source)
    }

    fn tenant(&self, source: i64) -> Option<i64> {
        self.tenants?.get(source).flatten()
    }
}

async fn find(
    config: &PipelineConfig,
    mut src: Source<'_>,
    t: &mut db::SqlClient,
    roots: &[i64],
) -> Result<Found, Failure> {
    let snaps = super::snapshots::snapshots(config, src.client, t, "scheduler").await?;
    let facts = Facts::read(&snaps.source, &snaps.target)?;
    let defs = DefinitionMaps::build(&snaps.source, &snaps.target)?;
    let mut processes = src.processes(roots).await?;
    if config.mapping.unmapped_definition == UnmappedDefinition::SkipTree {
        let mut skipped: BTreeSet<i64> = src.roots_naming_unmapped(&defs, roots).await?;
        skipped.extend(processes.iter().filter_map(|p| {
            let d = p.row.definition?;
            defs.get(c::PROCESS_DEFINITION, d)
                .is_none()
                .then_some(p.top?)
        }));
        processes.retain(|p| p.top.is_some_and(|top| !skipped.contains(&top)));
    }
    let used = UsedIds {
        tenants: processes.iter().filter_map(|p| p.row.tenant).collect(),
        ..UsedIds::default()
    };
    let resolved = coverage(config, &snaps.source, &snaps.target, &used)?.principals;
    let (tenants, tenants_unchecked) = match &resolved {
        Ok(r) => (Some(&r.maps.tenants), None),
        Err(e) => (None, Some(describe(e))),
    };
    let no_next_run = !src.has_next_run().await?;
    let moving_roots: Vec<i64> = if no_next_run {
        Vec::new()
    } else {
        let tops: HashSet<i64> = processes.iter().filter_map(|p| p.top).collect();
        roots.iter().copied().filter(|r| tops.contains(r)).collect()
    };
    let activities = src.activities(&moving_roots).await?;
    let rows: Vec<_> = processes.iter().map(|p| p.row).collect();
    let ids = CheckIds {
        defs: &defs,
        tenants,
    };
    // The target's own clock, as its scheduler compares `NEXT_RUN` with it.
    let clock = bptmig_extract::server_clock(t, db::Side::Target).await?;
    let now = Now::live(clock.as_ref(), now_ms());
    Ok(Found {
        findings: evaluate(&facts, &ids, &rows, &activities, now.ms),
        unchecked: facts.unchecked.clone(),
        tenants_unchecked,
        no_next_run,
    })
}

/// The two lines of `found`.
fn lines(found: &Found) -> [Line; 2] {
    let mut not_looked: Vec<String> = found
        .unchecked
        .iter()
        .map(|col| format!("`{col}` (the snapshot lacks it)"))
        .collect();
    if let Some(why) = &found.tenants_unchecked {
        not_looked.push(format!("tenants ({why})"));
    }
    let tail = if not_looked.is_empty() {
        String::new()
    } else {
        format!("; not looked for: {}", not_looked.join(", "))
    };
    [
        never_line(&found.findings.never_run, &tail),
        at_once_line(found.findings.past_next_run.as_ref(), found.no_next_run),
    ]
}

/// A group in words: `` `code` count (IDs …) ``.
fn in_words(g: &SchedulerGroup, what: &str) -> String {
    let ids: Vec<String> = g.sample_ids.iter().map(ToString::to_string).collect();
    let ids = ids.join(", ");
    let more = if g.count > g.sample_ids.len() as u64 {
        ", …"
    } else {
        ""
    };
    format!("`{}` {} ({what} {ids}{more})", g.reason, g.count)
}

fn never_line(groups: &[SchedulerGroup], tail: &str) -> Line {
    if groups.is_empty() {
        return line(
            NEVER,
            Verdict::Ok,
            format!(
                "no open process of the selected trees lies under an inactive or locked \
                 definition or eSpace, or an inactive tenant, of the target{tail}"
            ),
        );
    }
    let words: Vec<String> = groups.iter().map(|g| in_words(g, "processes")).collect();
    line(
        NEVER,
        Verdict::Note,
        format!(
            "open processes of the selected trees that the target's scheduler will never run: \
             {}; activate or unlock them in the target, or leave their trees out of \
             `[selection]` (report.json lists them under `scheduler`){tail}",
            words.join(", ")
        ),
    )
}

fn at_once_line(group: Option<&SchedulerGroup>, no_next_run: bool) -> Line {
    if no_next_run {
        return line(
            AT_ONCE,
            Verdict::Ok,
            format!("the source's `{}` has no `{}`", c::ACTIVITY, c::NEXT_RUN),
        );
    }
    let Some(g) = group else {
        return line(
            AT_ONCE,
            Verdict::Ok,
            "no open activity of the selected trees has a NEXT_RUN in the past",
        );
    };
    let automatic = match g.automatic.unwrap_or(0) {
        0 => "none of them automatic".to_owned(),
        n => format!("{n} of them automatic (they may call the target's integrations)"),
    };
    line(
        AT_ONCE,
        Verdict::Note,
        format!(
            "{}: open activities whose NEXT_RUN is past, {automatic}; the target's scheduler \
             runs them as soon as it sees them: disable the target's applications' timers and \
             integrations first, or leave their trees out of `[selection]`",
            in_words(g, "activities"),
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group(reason: &str, count: u64, ids: Vec<i64>, automatic: Option<u64>) -> SchedulerGroup {
        SchedulerGroup {
            reason: reason.to_owned(),
            count,
            automatic,
            sample_ids: ids,
        }
    }

    #[test]
    fn nothing_found_is_ok_and_names_what_was_not_looked_for() {
        let found = Found {
            unchecked: vec!["OSSYS_TENANT.IS_ACTIVE".to_owned()],
            ..Found::default()
        };
        let [never, at_once] = lines(&found);
        assert_eq!((never.verdict, at_once.verdict), (Verdict::Ok, Verdict::Ok));
        assert!(
            never
                .detail
                .ends_with("; not looked for: `OSSYS_TENANT.IS_ACTIVE` (the snapshot lacks it)"),
            "{}",
            never.detail
        );
        assert!(
            at_once.detail.starts_with("no open activity"),
            "{}",
            at_once.detail
        );
    }

    #[test]
    fn findings_are_notes_with_counts_and_samples() {
        let found = Found {
            findings: SchedulerFindings {
                never_run: vec![
                    group("definition_locked", 2, vec![1001, 1004], None),
                    group("tenant_inactive", 12, (1..=10).collect(), None),
                ],
                past_next_run: Some(group("next_run_past", 3, vec![5, 6, 7], Some(1))),
                now: None,
            },
            ..Found::default()
        };
        let [never, at_once] = lines(&found);
        assert_eq!(never.verdict, Verdict::Note);
        assert!(
            never.detail.contains(
                "`definition_locked` 2 (processes 1001, 1004), `tenant_inactive` 12 \
                 (processes 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, …)"
            ),
            "{}",
            never.detail
        );
        assert_eq!(at_once.verdict, Verdict::Note);
        assert!(
            at_once.detail.starts_with(
                "`next_run_past` 3 (activities 5, 6, 7): open activities whose NEXT_RUN is \
                 past, 1 of them automatic (they may call the target's integrations); the"
            ),
            "{}",
            at_once.detail
        );
        let none_automatic =
            at_once_line(Some(&group("next_run_past", 1, vec![5], Some(0))), false);
        assert!(
            none_automatic
                .detail
                .contains("past, none of them automatic; the target's"),
            "{}",
            none_automatic.detail
        );
    }
}
