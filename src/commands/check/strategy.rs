//! `ids strategy`: the ID strategy the run uses, and why.
//!
//! Once this pipeline's transform has run in the work directory, its `transform/ids.json` says
//! (with how `auto` was decided). Before that, a strategy the pipeline names is the
//! pipeline's; `auto` is decided here from the live target as the transform decides it from
//! its snapshot: `renumber` when `SET IDENTITY_INSERT <table> ON` (then `OFF` again) succeeds
//! for every keyed instance table, `generated` as soon as the target refuses it for one. A
//! server that does not answer leaves the line "could not tell".

use bptmig_db::{self as db, Names, Side, SqlClient, Transient as _};
use bptmig_model::catalog::INSTANCE_TABLES;
use bptmig_model::pipeline::IdStrategy;
use bptmig_model::PipelineConfig;
use bptmig_workdir::id_strategy::{self, Resolved, ResolvedIds};
use bptmig_workdir::layout::TRANSFORM;
use bptmig_workdir::{RunState, StageState, WorkDir};

use super::line::{describe, line, Line, Verdict};
use super::server::Server;

/// The line's name.
const NAME: &str = "ids strategy";

/// One line: the strategy, and where it comes from.
pub async fn strategy(config: &PipelineConfig, target: &mut Server<'_>, out: &mut Vec<Line>) {
    let wd = WorkDir::new(&config.workdir);
    if let Some(line) = transformed(&wd, config) {
        return out.push(line);
    }
    let named = match config.ids {
        IdStrategy::Auto => None,
        IdStrategy::Renumber => Some(Resolved::Renumber),
        IdStrategy::Keep => Some(Resolved::Keep),
        IdStrategy::Generated => Some(Resolved::Generated),
    };
    if let Some(named) = named {
        return out.push(line(
            NAME,
            Verdict::Ok,
            format!(
                "`{named}`, as the pipeline's `ids.strategy` says: {}",
                meaning(named)
            ),
        ));
    }
    let Some(client) = target.client(NAME, out) else {
        return;
    };
    match decide(client).await {
        Ok(decided) => out.push(line(
            NAME,
            Verdict::Ok,
            format!(
                "`{}` (`ids.strategy = \"auto\"`: {}): {}; the transform decides it again from \
                 its snapshot of the target",
                decided.strategy,
                decided.decided_by.as_deref().unwrap_or_default(),
                meaning(decided.strategy)
            ),
        )),
        Err(e) => out.push(target.failed(NAME, &e)),
    }
}

/// What a strategy does, in a few words.
fn meaning(strategy: Resolved) -> &'static str {
    match strategy {
        Resolved::Renumber => {
            "moved rows get a block of new IDs right after the target's, written with \
             `IDENTITY_INSERT`"
        }
        Resolved::Keep => "moved rows keep their source IDs, written with `IDENTITY_INSERT`",
        Resolved::Generated => {
            "the target generates every moved row's ID at load (no `IDENTITY_INSERT`); the \
             load captures the old→new pairs, which verify, rollback and `bptmig maps` use"
        }
    }
}

/// The line from `transform/ids.json` when this pipeline's transform has run in `wd`.
fn transformed(wd: &WorkDir, config: &PipelineConfig) -> Option<Line> {
    let run = RunState::read(wd).ok().flatten()?;
    if bptmig_workdir::other_databases(&run, config).is_some()
        || run.stages.get(TRANSFORM) != Some(&StageState::Done)
    {
        return None;
    }
    let resolved = match id_strategy::read(wd) {
        Ok(Some(r)) => r,
        // Transformed by a bptmig that wrote no `ids.json`: the pipeline's, `auto` renumbers.
        Ok(None) => ResolvedIds {
            strategy: Resolved::from_pipeline(config.ids),
            decided_by: (config.ids == IdStrategy::Auto)
                .then(|| "decided before `auto` existed: renumber".to_owned()),
        },
        Err(e) => return Some(line(NAME, Verdict::Block, describe(&e))),
    };
    Some(transformed_line(&run.run_id, config.ids, &resolved))
}

/// The line of a transform that applied `resolved` while the pipeline says `pipeline`.
fn transformed_line(run_id: &str, pipeline: IdStrategy, resolved: &ResolvedIds) -> Line {
    let strategy = resolved.strategy;
    let why = resolved
        .decided_by
        .as_deref()
        .map(|d| format!(" (`ids.strategy = \"auto\"`: {d})"))
        .unwrap_or_default();
    let detail = format!(
        "`{strategy}`, as the transform of run {run_id} applied it{why}: {}",
        meaning(strategy)
    );
    if pipeline == IdStrategy::Auto || pipeline == strategy.to_pipeline() {
        line(NAME, Verdict::Ok, detail)
    } else {
        line(
            NAME,
            Verdict::Note,
            format!(
                "{detail}; the pipeline now says `{}`, which applies only once `bptmig \
                 transform` runs again",
                pipeline_name(pipeline)
            ),
        )
    }
}

fn pipeline_name(strategy: IdStrategy) -> &'static str {
    match strategy {
        IdStrategy::Renumber => "renumber",
        IdStrategy::Keep => "keep",
        IdStrategy::Generated => "generated",
        IdStrategy::Auto => "auto",
    }
}

/// `auto` decided on the live target: `generated` when the target refuses `SET
/// IDENTITY_INSERT … ON` for any keyed instance table, else `renumber`, in the transform's
/// words. A transient fault is an error (nothing was learned); a refusal is the answer.
async fn decide(client: &mut SqlClient) -> db::Result<ResolvedIds> {
    let names = Names::read(client, Side::Target).await?;
    let mut refused: Vec<(&str, db::Error)> = Vec::new();
    for t in INSTANCE_TABLES.iter().filter(|t| t.key.is_some()) {
        let table = names.quoted(t.name)?;
        if let Err(e) = identity_insert(client, &table).await {
            if e.fault().is_some() {
                return Err(e);
            }
            refused.push((t.name, e));
        }
    }
    Ok(decision(&refused))
}

/// The decision and its reason, worded as the transform words it, from the tables whose
/// `IDENTITY_INSERT` the target refused (with the first refusal in the server's words).
fn decision(refused: &[(&str, db::Error)]) -> ResolvedIds {
    let Some((first, e)) = refused.first() else {
        return ResolvedIds {
            strategy: Resolved::Renumber,
            decided_by: Some(
                "the target login may use IDENTITY_INSERT on every instance table: renumber"
                    .to_owned(),
            ),
        };
    };
    let tables: Vec<String> = refused.iter().map(|(t, _)| format!("`{t}`")).collect();
    ResolvedIds {
        strategy: Resolved::Generated,
        decided_by: Some(format!(
            "the target login may not use IDENTITY_INSERT on {}: the target generates the IDs \
             (`{first}`: {})",
            tables.join(", "),
            describe(e)
        )),
    }
}

/// `SET IDENTITY_INSERT table ON`, then `OFF` again: never left on for the session.
async fn identity_insert(client: &mut SqlClient, table: &str) -> db::Result<()> {
    db::execute(
        client,
        Side::Target,
        &format!("SET IDENTITY_INSERT {table} ON"),
    )
    .await?;
    db::execute(
        client,
        Side::Target,
        &format!("SET IDENTITY_INSERT {table} OFF"),
    )
    .await
}

#[cfg(test)]
mod tests {
    use bptmig_model::catalog as c;

    use super::*;

    #[test]
    fn auto_is_worded_as_the_transform_words_it() {
        let renumber = decision(&[]);
        assert_eq!(renumber.strategy, Resolved::Renumber);
        let refusal = || db::Error::MissingTable {
            side: Side::Target,
            table: "X".into(),
        };
        let generated = decision(&[(c::PROCESS, refusal()), (c::ACTIVITY, refusal())]);
        assert_eq!(generated.strategy, Resolved::Generated);
        let why = generated.decided_by.unwrap_or_default();
        assert!(
            why.starts_with(
                "the target login may not use IDENTITY_INSERT on `OSSYS_BPM_PROCESS`, \
                 `OSSYS_BPM_ACTIVITY`: the target generates the IDs (`OSSYS_BPM_PROCESS`: "
            ),
            "{why}"
        );
    }

    #[test]
    fn a_transformed_run_names_its_strategy_and_a_changed_pipeline_is_noted() {
        let generated = ResolvedIds {
            strategy: Resolved::Generated,
            decided_by: Some("the target refuses `SET IDENTITY_INSERT` on `X`".into()),
        };
        let l = transformed_line("r1", IdStrategy::Auto, &generated);
        assert_eq!(l.verdict, Verdict::Ok);
        assert!(
            l.detail
                .starts_with("`generated`, as the transform of run r1"),
            "{}",
            l.detail
        );
        assert!(
            l.detail.contains("refuses `SET IDENTITY_INSERT` on `X`"),
            "{}",
            l.detail
        );

        let named = ResolvedIds::named(Resolved::Renumber);
        let l = transformed_line("r1", IdStrategy::Renumber, &named);
        assert_eq!(l.verdict, Verdict::Ok);
        assert!(!l.detail.contains("auto"), "{}", l.detail);

        let l = transformed_line("r1", IdStrategy::Generated, &named);
        assert_eq!(l.verdict, Verdict::Note);
        assert!(l.detail.contains("now says `generated`"), "{}", l.detail);
    }
}
