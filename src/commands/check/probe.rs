//! `bptmig check --probe`: the load's own paths round-tripped on session temporary tables
//! shaped like the target's instance tables ([`bptmig_load::probe`]), one line per path
//! (`works: …` or `fails: why`), then the strategies `auto` will use.
//!
//! A path that fails blocks only when the pipeline chose it by name (`ids.strategy =
//! "renumber"` and explicit IDs fail, `load.strategy = "bulk"` and bulk copy fails…), or
//! when it leaves `auto` nothing that works; otherwise it is a note.

use bptmig_db::permissions::{trial, Answer, Trial};
use bptmig_db::{self as db, Names, Side, SqlClient};
use bptmig_load::probe::{probe as run_probe, Outcome, Probe};
use bptmig_model::catalog::INSTANCE_TABLES;
use bptmig_model::pipeline::{IdStrategy, LoadStrategy};
use bptmig_model::PipelineConfig;

use super::line::{describe, line, Line, Verdict};
use super::server::Server;

/// The first line's name, which a failure of the whole probe is reported under.
const FIRST: &str = "probe: ids renumber (IDENTITY_INSERT)";

/// One line per path and one saying which strategies `auto` uses.
pub async fn probe(config: &PipelineConfig, target: &mut Server<'_>, out: &mut Vec<Line>) {
    let Some(client) = target.client(FIRST, out) else {
        return;
    };
    let found = match run_probe(client, &config.target).await {
        Ok(found) => found,
        Err(bptmig_load::Error::Db(e)) => return out.push(target.failed(FIRST, &e)),
        Err(e) => return out.push(line(FIRST, Verdict::Block, describe(&e))),
    };
    let refused = match identity_insert_refused(client).await {
        Ok(refused) => refused,
        Err(e) => return out.push(target.failed("probe: auto", &e)),
    };
    out.extend(lines(
        config.ids,
        config.load.strategy,
        &found,
        refused.as_deref(),
    ));
}

/// The lines of what the probe `found`, for the pipeline's `ids` and `load` strategies; `refused` names the first instance table of the
/// target whose `SET IDENTITY_INSERT` the login may not use, with the server's words.
fn lines(ids: IdStrategy, load: LoadStrategy, found: &Probe, refused: Option<&str>) -> Vec<Line> {
    let auto = Auto::of(found, refused);
    let explicit = match ids {
        IdStrategy::Renumber | IdStrategy::Keep => Use::Named,
        IdStrategy::Auto => Use::Maybe,
        IdStrategy::Generated => Use::Not,
    };
    let generated = match ids {
        IdStrategy::Generated => Use::Named,
        IdStrategy::Auto => Use::Maybe,
        IdStrategy::Renumber | IdStrategy::Keep => Use::Not,
    };
    let insert = if load == LoadStrategy::Insert || auto.load.is_none() {
        Use::Named
    } else {
        Use::Maybe
    };
    let bulk = match load {
        LoadStrategy::Bulk => Use::Named,
        LoadStrategy::Auto => Use::Maybe,
        LoadStrategy::Insert => Use::Not,
    };
    let identity = "probe: identity after explicit IDs";
    let identity = match (&found.identity_after_explicit, found.identity_follows) {
        (Outcome::Works(what), Some(false)) => {
            line(identity, Verdict::Note, format!("works: {what}"))
        }
        (outcome, _) => path(identity, outcome, explicit.or_maybe()),
    };
    vec![
        path(FIRST, &found.ids_explicit, explicit),
        path(
            "probe: ids generated (SCOPE_IDENTITY)",
            &found.ids_generated,
            generated,
        ),
        path("probe: load insert", &found.load_insert, insert),
        path("probe: load bulk", &found.load_bulk, bulk),
        path("probe: date/times", &found.date_times, Use::Not),
        path("probe: long texts", &found.long_texts, Use::Named),
        identity,
        auto.line(ids == IdStrategy::Auto || load == LoadStrategy::Auto),
    ]
}

/// Whether the pipeline uses a path: by name, perhaps (`auto`), or not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Use {
    Named,
    Maybe,
    Not,
}

impl Use {
    /// At most [`Use::Maybe`]: for what a path's outcome only informs.
    fn or_maybe(self) -> Self {
        if self == Use::Named {
            Use::Maybe
        } else {
            self
        }
    }
}

/// A path's line: `works: …`; `fails: why`, blocking when the pipeline names the path; or
/// `could not tell: why` when the server would not let the probe try it (a note when the
/// pipeline does not use the path).
fn path(name: &str, outcome: &Outcome, used: Use) -> Line {
    match outcome {
        Outcome::Works(what) => line(name, Verdict::Ok, format!("works: {what}")),
        Outcome::Fails(why) => {
            let verdict = if used == Use::Named {
                Verdict::Block
            } else {
                Verdict::Note
            };
            line(name, verdict, format!("fails: {why}"))
        }
        Outcome::Untried(why) => {
            let verdict = if used == Use::Not {
                Verdict::Note
            } else {
                Verdict::Unknown
            };
            line(name, verdict, format!("could not tell: {why}"))
        }
    }
}

/// The strategies `auto` picks from what the probe found: ids `renumber` where explicit IDs
/// work and the login may use `IDENTITY_INSERT` on every keyed instance table, else
/// `generated` where `SCOPE_IDENTITY()` works; rows by bulk copy where it works (never under
/// `generated`, which learns each new ID from its `INSERT`), else by batched inserts.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Auto {
    ids: Option<&'static str>,
    load: Option<&'static str>,
    /// Why, in a few words.
    why: Vec<String>,
}

impl Auto {
    fn of(found: &Probe, refused: Option<&str>) -> Self {
        let mut why = Vec::new();
        let ids = match (&found.ids_explicit, refused, &found.ids_generated) {
            (Outcome::Works(_), None, _) => {
                why.push("explicit IDs work and the login may use `IDENTITY_INSERT`".to_owned());
                Some("renumber")
            }
            (Outcome::Untried(_), None, _) => {
                why.push("the login may use `IDENTITY_INSERT` (explicit IDs untried)".to_owned());
                Some("renumber")
            }
            (_, _, Outcome::Works(_)) => {
                why.push(match refused {
                    Some(r) => format!("the login may not use `IDENTITY_INSERT` ({r})"),
                    None => "explicit IDs fail".to_owned(),
                });
                Some("generated")
            }
            _ => None,
        };
        let load = match (&found.load_bulk, &found.load_insert) {
            (Outcome::Works(_), _) if ids != Some("generated") => {
                why.push("bulk copy works".to_owned());
                Some("bulk")
            }
            (_, Outcome::Works(_)) => {
                why.push(if matches!(found.load_bulk, Outcome::Works(_)) {
                    "`generated` inserts row by row".to_owned()
                } else {
                    "bulk copy fails".to_owned()
                });
                Some("insert")
            }
            _ => None,
        };
        Self { ids, load, why }
    }

    /// The line; blocking when nothing works and the pipeline `uses_auto`.
    fn line(&self, uses_auto: bool) -> Line {
        const NAME: &str = "probe: auto";
        match (self.ids, self.load) {
            (Some(ids), Some(load)) => line(
                NAME,
                Verdict::Ok,
                format!(
                    "`auto` will use `ids.strategy = \"{ids}\"` and `load.strategy = \
                     \"{load}\"` ({})",
                    self.why.join("; ")
                ),
            ),
            (ids, load) => line(
                NAME,
                if uses_auto {
                    Verdict::Block
                } else {
                    Verdict::Note
                },
                format!(
                    "`auto` finds no way to {}: see the lines above",
                    match (ids, load) {
                        (None, None) => "give the moved rows IDs nor to write them",
                        (None, _) => "give the moved rows IDs",
                        _ => "write the rows",
                    }
                ),
            ),
        }
    }
}

/// The first keyed instance table whose `SET IDENTITY_INSERT … ON` (then `OFF`) the login
/// may not use, with the server's words; `None` when it may use it on all of them (or the
/// server does not tell).
async fn identity_insert_refused(client: &mut SqlClient) -> db::Result<Option<String>> {
    let names = Names::read(client, Side::Target).await?;
    for t in INSTANCE_TABLES.iter().filter(|t| t.key.is_some()) {
        let Some(spelled) = names.find(t.name)?.map(str::to_owned) else {
            continue;
        };
        if let Answer::Denied(words) =
            trial(client, Side::Target, &Trial::identity_insert(&spelled)).await?
        {
            return Ok(Some(format!("`{spelled}`: {words}")));
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests;
