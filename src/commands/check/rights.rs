//! Every right the chosen strategy needs, and whether the login holds it, found out by
//! harmless trials ([`bptmig_db::permissions::trial`]): statements that need the right and
//! change nothing, in transactions that are rolled back. Where the server does not run a
//! trial, `HAS_PERMS_BY_NAME` is asked instead, and trusted only when it confirms a right a
//! trial proved; where neither answers, the line says "could not tell" (`warn`).
//!
//! | line | tables | needed by |
//! |---|---|---|
//! | `source right SELECT` | the platform tables the extract reads | every strategy |
//! | `target right SELECT` | the same in the target (its snapshot), bptmig's tables | every strategy |
//! | `target right INSERT` | instance tables, bptmig's tables | every strategy |
//! | `target right UPDATE` | instance tables (fix-ups), bptmig's tables (lock) | every strategy |
//! | `target right DELETE (rollback)` | instance tables (rollback), bptmig's tables (lock) | every strategy |
//! | `target right ALTER (IDENTITY_INSERT)` | keyed instance tables | `renumber`, `keep`, `auto`; bulk copy |
//! | `target right DBCC CHECKIDENT` | keyed instance tables | `renumber`, `auto` |
//! | `target right CREATE TABLE` | bptmig's tables the target lacks | without `[load.tables]` |

use bptmig_db::permissions::Trial;
use bptmig_db::{self as db, Names, Side, SqlClient};
use bptmig_load::LedgerTables;
use bptmig_model::catalog as c;
use bptmig_model::pipeline::{IdStrategy, LoadStrategy};
use bptmig_model::PipelineConfig;

use super::line::{Line, Verdict};
use super::server::Server;

mod tables;
mod tally;

use tables::{Tables, TargetTables};
use tally::Tally;

/// The source's line, then the target's.
pub async fn rights(
    config: &PipelineConfig,
    source: &mut Server<'_>,
    target: &mut Server<'_>,
    out: &mut Vec<Line>,
) {
    source_select(source, out).await;
    target_rights(config, target, out).await;
}

/// `SELECT` on every platform table the extract reads from the source.
async fn source_select(source: &mut Server<'_>, out: &mut Vec<Line>) {
    const NAME: &str = "source right SELECT";
    let Some(client) = source.client(NAME, out) else {
        return;
    };
    let tally = match Tables::read(client, Side::Source).await {
        Ok(tables) => {
            let trials = tables
                .platform
                .iter()
                .map(|t| (t.clone(), Trial::select(t)));
            Tally::of(client, Side::Source, trials).await
        }
        Err(e) => Err(e),
    };
    match tally {
        Ok(tally) => out.push(tally.line(NAME, "platform table(s)", &Advice::essential("SELECT"))),
        Err(e) => out.push(source.failed(NAME, &e)),
    }
}

/// Every right on the target, one line each.
async fn target_rights(config: &PipelineConfig, target: &mut Server<'_>, out: &mut Vec<Line>) {
    const NAME: &str = "target right SELECT";
    let Some(client) = target.client(NAME, out) else {
        return;
    };
    let own = LedgerTables::of(&config.load);
    let tables = match TargetTables::read(client, &own).await {
        Ok(tables) => tables,
        Err(e) => return out.push(target.failed(NAME, &e)),
    };
    for right in Right::needed(config.ids, config.load.strategy) {
        let name = right.name();
        let Some(client) = target.client(name, out) else {
            return;
        };
        match right.check(client, config, &tables).await {
            Ok(l) => out.push(l),
            Err(e) => out.push(target.failed(name, &e)),
        }
    }
}

/// A right of the target login, as a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Right {
    Select,
    Insert,
    Update,
    Delete,
    Alter,
    CheckIdent,
    CreateTable,
}

impl Right {
    /// The rights the pipeline's strategies need, in the order of their lines.
    fn needed(ids: IdStrategy, load: LoadStrategy) -> Vec<Right> {
        let mut rights = vec![Right::Select, Right::Insert, Right::Update, Right::Delete];
        if ids != IdStrategy::Generated || load == LoadStrategy::Bulk {
            rights.push(Right::Alter);
        }
        if matches!(ids, IdStrategy::Renumber | IdStrategy::Auto) {
            rights.push(Right::CheckIdent);
        }
        rights.push(Right::CreateTable);
        rights
    }

    fn name(self) -> &'static str {
        match self {
            Right::Select => "target right SELECT",
            Right::Insert => "target right INSERT",
            Right::Update => "target right UPDATE",
            Right::Delete => "target right DELETE (rollback)",
            Right::Alter => "target right ALTER (IDENTITY_INSERT)",
            Right::CheckIdent => "target right DBCC CHECKIDENT",
            Right::CreateTable => "target right CREATE TABLE",
        }
    }

    /// Tries the right on every table that needs it; the line says what was found.
    async fn check(
        self,
        client: &mut SqlClient,
        config: &PipelineConfig,
        tables: &TargetTables,
    ) -> db::Result<Line> {
        let name = self.name();
        let side = Side::Target;
        let written = tables.written();
        let (trials, what): (Vec<(String, Trial)>, &str) = match self {
            Right::Select => (
                tables
                    .reads()
                    .map(|t| (t.clone(), Trial::select(t)))
                    .collect(),
                "table(s) the run reads",
            ),
            Right::Insert => (
                written
                    .map(|t| (t.name.clone(), Trial::insert(&t.name, &t.columns)))
                    .collect(),
                "table(s) the load writes",
            ),
            Right::Update => (
                written
                    .filter_map(|t| {
                        Some((t.name.clone(), Trial::update(&t.name, t.columns.first()?)))
                    })
                    .collect(),
                "table(s) the load writes",
            ),
            Right::Delete => (
                written
                    .map(|t| (t.name.clone(), Trial::delete(&t.name)))
                    .collect(),
                "table(s) the load writes",
            ),
            Right::Alter => (
                tables
                    .keyed()
                    .map(|t| (t.clone(), Trial::identity_insert(t)))
                    .collect(),
                "keyed instance table(s)",
            ),
            Right::CheckIdent => (
                tables
                    .keyed()
                    .map(|t| (t.clone(), Trial::checkident(t)))
                    .collect(),
                "keyed instance table(s)",
            ),
            Right::CreateTable => return tables::create_table(client, config, tables).await,
        };
        let mut tally = Tally::of(client, side, trials.into_iter()).await?;
        if let Some(perm) = self.permission() {
            tally
                .ask_server(client, side, tables.read_proven(), perm)
                .await?;
        }
        Ok(tally.line(name, what, &self.advice(config)))
    }

    /// The object permission `HAS_PERMS_BY_NAME` can be asked about instead of a trial.
    fn permission(self) -> Option<db::Permission> {
        match self {
            Right::Select => Some(db::Permission::Select),
            Right::Insert => Some(db::Permission::Insert),
            Right::Update => Some(db::Permission::Update),
            Right::Delete => Some(db::Permission::Delete),
            Right::Alter => Some(db::Permission::Alter),
            Right::CheckIdent | Right::CreateTable => None,
        }
    }

    /// What a missing right means for the pipeline's strategies.
    fn advice(self, config: &PipelineConfig) -> Advice {
        match self {
            Right::Select | Right::Insert | Right::Update => Advice::essential(self.sql()),
            Right::Delete => Advice {
                verdict: Verdict::Note,
                text: "`bptmig rollback` needs it (and the load, to release its lock): grant \
                       DELETE before you need a rollback"
                    .to_owned(),
            },
            Right::Alter => alter_advice(config.ids, config.load.strategy),
            Right::CheckIdent => Advice {
                verdict: Verdict::Note,
                text: "without it the load cannot move an identity the server leaves inside \
                       the moved block (it warns; SQL Server moves the identity itself under \
                       `IDENTITY_INSERT`, see `probe: identity after explicit IDs`)"
                    .to_owned(),
            },
            Right::CreateTable => Advice::essential("CREATE TABLE"),
        }
    }

    fn sql(self) -> &'static str {
        match self {
            Right::Select => "SELECT",
            Right::Insert => "INSERT",
            Right::Update => "UPDATE",
            Right::Delete => "DELETE",
            Right::Alter => "ALTER",
            Right::CheckIdent => "DBCC CHECKIDENT",
            Right::CreateTable => "CREATE TABLE",
        }
    }
}

/// `ALTER` is what `IDENTITY_INSERT` (and bulk copy's keep-identity and constraint
/// re-checks) need; `generated` needs none.
fn alter_advice(ids: IdStrategy, load: LoadStrategy) -> Advice {
    let bulk = load == LoadStrategy::Bulk;
    let (verdict, text) = match ids {
        IdStrategy::Auto if !bulk => (
            Verdict::Note,
            "`ids.strategy = \"auto\"` will use `generated`, which needs no ALTER".to_owned(),
        ),
        IdStrategy::Generated => (
            Verdict::Block,
            "bulk copy needs it (keep-identity, constraint re-checks): use `load.strategy = \
             \"insert\"`"
                .to_owned(),
        ),
        _ => (
            Verdict::Block,
            format!(
                "use `ids.strategy = \"generated\"` (or \"auto\"){}, which needs no ALTER",
                if bulk {
                    " with `load.strategy = \"insert\"`"
                } else {
                    ""
                }
            ),
        ),
    };
    Advice { verdict, text }
}

/// What a denied right means: the verdict, and what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Advice {
    verdict: Verdict,
    text: String,
}

impl Advice {
    /// A right no strategy does without.
    fn essential(sql: &str) -> Self {
        Self {
            verdict: Verdict::Block,
            text: format!("no strategy runs without it: grant {sql} to the login"),
        }
    }
}

/// The names of the platform tables a side's run reads, as its catalog spells them.
fn platform_tables(names: &Names) -> Vec<String> {
    c::INSTANCE_TABLES
        .iter()
        .chain(c::DEFINITION_TABLES)
        .chain(c::STATIC_TABLES)
        .chain(c::QUEUE_TABLES)
        .chain(c::IDENTITY_TABLES)
        .filter_map(|t| names.find(t.name).ok().flatten().map(str::to_owned))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_needs_no_alter_nor_dbcc_unless_bulk_copy_is_asked_for() {
        use IdStrategy::{Auto, Generated, Keep, Renumber};
        use LoadStrategy::{Bulk, Insert};
        let has = |ids, load, r| Right::needed(ids, load).contains(&r);
        assert!(
            !has(Generated, Insert, Right::Alter) && !has(Generated, Insert, Right::CheckIdent)
        );
        assert!(has(Generated, Bulk, Right::Alter));
        assert!(has(Renumber, Insert, Right::Alter) && has(Renumber, Insert, Right::CheckIdent));
        assert!(has(Keep, Insert, Right::Alter) && !has(Keep, Insert, Right::CheckIdent));
        assert!(has(Auto, Insert, Right::CheckIdent) && has(Auto, Insert, Right::CreateTable));
    }

    #[test]
    fn a_missing_alter_names_the_strategy_that_still_works() {
        let a = alter_advice(IdStrategy::Renumber, LoadStrategy::Auto);
        assert_eq!(a.verdict, Verdict::Block);
        assert!(
            a.text.starts_with("use `ids.strategy = \"generated\"`"),
            "{}",
            a.text
        );
        let a = alter_advice(IdStrategy::Keep, LoadStrategy::Bulk);
        assert!(
            a.text.contains("`load.strategy = \"insert\"`"),
            "{}",
            a.text
        );
        let a = alter_advice(IdStrategy::Auto, LoadStrategy::Insert);
        assert_eq!(a.verdict, Verdict::Note);
        assert!(a.text.contains("will use `generated`"), "{}", a.text);
        let a = alter_advice(IdStrategy::Generated, LoadStrategy::Bulk);
        assert_eq!(a.verdict, Verdict::Block);
        assert!(
            a.text.contains("`load.strategy = \"insert\"`"),
            "{}",
            a.text
        );
    }
}
