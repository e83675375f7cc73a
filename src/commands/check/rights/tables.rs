//! The tables each right is tried on, as each side's catalog spells them, and the
//! `CREATE TABLE` line for bptmig's own tables.

use bptmig_db::permissions::{drop_if_exists, trial, Answer, Trial};
use bptmig_db::{self as db, quote_text, Names, Side, SqlClient};
use bptmig_load::LedgerTables;
use bptmig_model::catalog as c;
use bptmig_model::pipeline::IdStrategy;
use bptmig_model::PipelineConfig;

use super::super::line::{line, Line, Verdict};
use super::platform_tables;

/// The platform tables a side's run reads (the `OSEVT_*` tables included).
#[derive(Debug, Clone, Default)]
pub struct Tables {
    pub platform: Vec<String>,
    /// Every table of the database, as its catalog spells it.
    all: Vec<String>,
}

impl Tables {
    pub async fn read(client: &mut SqlClient, side: Side) -> db::Result<Self> {
        let sql = "SELECT TABLE_NAME FROM INFORMATION_SCHEMA.TABLES";
        let rows = db::query_rows(client, side, sql, &[]).await?;
        let all: Vec<String> = rows.iter().filter_map(|r| db::text_cell(r, 0)).collect();
        let names = Names::from_spellings(side, all.iter().cloned());
        let mut platform = platform_tables(&names);
        platform.extend(all.iter().filter(|t| c::is_osevt(t)).cloned());
        Ok(Self { platform, all })
    }

    /// The catalog's spelling of `name` (any case), if the table exists.
    fn find(&self, name: &str) -> Option<&String> {
        self.all.iter().find(|t| t.eq_ignore_ascii_case(name))
    }
}

/// A table the load writes: its name and the columns an `INSERT` names (none an identity).
#[derive(Debug, Clone)]
pub struct Written {
    pub name: String,
    pub columns: Vec<String>,
    /// Whether it has an identity column (an instance table's `ID`).
    pub keyed: bool,
}

/// The target's tables, by what the run does to them.
#[derive(Debug, Clone)]
pub struct TargetTables {
    tables: Tables,
    /// The instance tables (`OSEVT_*` included), then bptmig's tables that exist.
    written: Vec<Written>,
    /// bptmig's tables the target lacks.
    missing_own: Vec<String>,
}

impl TargetTables {
    pub async fn read(client: &mut SqlClient, own: &LedgerTables) -> db::Result<Self> {
        let tables = Tables::read(client, Side::Target).await?;
        let instance = c::INSTANCE_TABLES.iter().map(|t| t.name.to_owned());
        let osevt = tables.all.iter().filter(|t| c::is_osevt(t)).cloned();
        let mut written = Vec::new();
        for name in instance.chain(osevt) {
            if let Some(spelled) = tables.find(&name) {
                written.push(written_table(client, spelled).await?);
            }
        }
        let mut missing_own = Vec::new();
        for name in [&own.chunks, &own.trees, &own.lock, &own.pairs] {
            match tables.find(name) {
                Some(spelled) => written.push(written_table(client, spelled).await?),
                None => missing_own.push(name.clone()),
            }
        }
        Ok(Self {
            tables,
            written,
            missing_own,
        })
    }

    /// Every table the run reads: the platform tables, and bptmig's that exist.
    pub fn reads(&self) -> impl Iterator<Item = &String> {
        let own = self.written.iter().filter(|w| !self.is_platform(&w.name));
        self.tables.platform.iter().chain(own.map(|w| &w.name))
    }

    /// Every table the load writes.
    pub fn written(&self) -> impl Iterator<Item = &Written> {
        self.written.iter()
    }

    /// The keyed instance tables (the load names their IDs).
    pub fn keyed(&self) -> impl Iterator<Item = &String> {
        self.written
            .iter()
            .filter(|w| {
                w.keyed
                    && c::INSTANCE_TABLES
                        .iter()
                        .any(|t| t.key.is_some() && t.name.eq_ignore_ascii_case(&w.name))
            })
            .map(|w| &w.name)
    }

    /// A table the session may read (its `SELECT` trial ran first), for calibrating
    /// `HAS_PERMS_BY_NAME`.
    pub fn read_proven(&self) -> Option<&str> {
        self.tables.platform.first().map(String::as_str)
    }

    fn is_platform(&self, name: &str) -> bool {
        self.tables.platform.iter().any(|p| p == name)
    }
}

/// `table`'s columns except its identity, and whether it has one.
async fn written_table(client: &mut SqlClient, table: &str) -> db::Result<Written> {
    let columns = db::table_columns(client, Side::Target, table).await?;
    let sql = format!(
        "SELECT name FROM sys.identity_columns WHERE object_id = OBJECT_ID({})",
        quote_text(table)
    );
    let identity = match db::query_rows(client, Side::Target, &sql, &[]).await {
        Ok(rows) => rows.first().and_then(|r| db::text_cell(r, 0)),
        Err(e) if db::Transient::fault(&e).is_some() => return Err(e),
        // A server without `sys.identity_columns`: instance tables' identity is their `ID`.
        Err(_) => c::INSTANCE_TABLES
            .iter()
            .any(|t| t.name.eq_ignore_ascii_case(table))
            .then(|| c::ID.to_owned()),
    };
    let is_identity = |n: &str| {
        identity
            .as_deref()
            .is_some_and(|i| i.eq_ignore_ascii_case(n))
    };
    Ok(Written {
        name: table.to_owned(),
        keyed: identity.is_some(),
        columns: columns
            .into_iter()
            .map(|col| col.name)
            .filter(|n| !is_identity(n))
            .collect(),
    })
}

/// The `CREATE TABLE` line: needed only for bptmig's tables the target lacks, never with
/// `[load.tables]` (bptmig then creates nothing). Tried by creating a one-column table in a
/// transaction that is rolled back (and dropped, on a server that keeps it).
pub async fn create_table(
    client: &mut SqlClient,
    config: &PipelineConfig,
    tables: &TargetTables,
) -> db::Result<Line> {
    const NAME: &str = "target right CREATE TABLE";
    let own = LedgerTables::of(&config.load);
    // The pairs table is created by a `generated` load only.
    let needs_pairs = matches!(config.ids, IdStrategy::Generated | IdStrategy::Auto);
    let missing: Vec<&String> = tables
        .missing_own
        .iter()
        .filter(|t| needs_pairs || **t != own.pairs)
        .collect();
    if config.load.tables.is_some() {
        let names = missing.iter().map(|t| format!("`{t}`")).collect::<Vec<_>>();
        if names.is_empty() {
            let advice = bptmig_load::missing_unique_keys(client, &own).await;
            return Ok(if advice.is_empty() {
                line(
                    NAME,
                    Verdict::Ok,
                    "not needed: `[load.tables]` names bptmig's tables, each with its unique key",
                )
            } else {
                line(
                    NAME,
                    Verdict::Note,
                    format!(
                        "not needed: `[load.tables]` names bptmig's tables; {}",
                        advice.join("; ")
                    ),
                )
            });
        }
        return Ok(line(
            NAME,
            Verdict::Block,
            format!(
                "`[load.tables]` names {} that the target lacks (bptmig never creates them \
                 then): create them (README, \"bptmig's tables\") or correct `[load.tables]`",
                names.join(", ")
            ),
        ));
    }
    if missing.is_empty() {
        return Ok(line(NAME, Verdict::Ok, "not needed: bptmig's tables exist"));
    }
    let probe = format!("BPTMIG_RIGHTS_TRIAL_{}", std::process::id());
    let answer = trial(client, Side::Target, &Trial::create_table(&probe)).await?;
    drop_if_exists(client, Side::Target, &probe).await?;
    let listed = missing
        .iter()
        .map(|t| format!("`{t}`"))
        .collect::<Vec<_>>()
        .join(", ");
    Ok(match answer {
        Answer::Granted => line(
            NAME,
            Verdict::Ok,
            format!("the load creates {listed} (tried: a table created and rolled back)"),
        ),
        Answer::Denied(words) => line(
            NAME,
            Verdict::Block,
            format!(
                "the load would create {listed}, and the login may not (server: {words}); \
                 create them yourself and name them in `[load.tables]` (README, \"bptmig's \
                 tables\")"
            ),
        ),
        Answer::Unknown(words) => line(
            NAME,
            Verdict::Unknown,
            format!(
                "could not tell whether the load may create {listed}: the server refused the \
                 trial for another reason (server: {words})"
            ),
        ),
    })
}
