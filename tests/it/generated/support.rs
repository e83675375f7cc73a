//! What the tests of the generated load share: pipelines, the stages run as a user runs
//! them, tables created the way an OutSystems developer would, the moved rows of a target
//! with every instance ID put back to the source's, and the words of a statement.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use bptmig_model::catalog::{self as c, ColumnRole, FkKind};
use bptmig_sandbox::generator::HISTORY_TABLES;
use bptmig_sandbox::testing::{self, Cell, Pipeline};
use bptmig_sandbox::SqlClient;

use crate::common;

/// The mapping, selection and load settings of every pipeline here.
pub const SETTINGS: &str = "[selection]\nbroken_tree = \"skip\"\n\
     [mapping]\nunmapped_user = \"null\"\nunmapped_group = \"null\"\n\
     unmapped_definition = \"skip-tree\"\nunmoved_reference = \"keep\"\n\
     [load]\nstrategy = \"auto\"\nchunk_rows = 60\nbatch_rows = 25\n";

/// `[load.tables]` naming the tables [`create_entity_tables`] makes.
pub const OWN_TABLES: &str = "[load.tables]\nledger = \"OSUSR_BPT_LEDGER\"\n\
     trees = \"OSUSR_BPT_TREES\"\nlock = \"OSUSR_BPT_LOCK\"\npairs = \"OSUSR_BPT_PAIRS\"\n";

/// Writes pipeline `name` (work directory `<dir>/<name>`) from `source` to `target`, with
/// [`SETTINGS`], then `extra`.
pub fn pipeline(dir: &Path, name: &str, source: String, target: String, extra: &str) -> PathBuf {
    let path = dir.join(format!("{name}.toml"));
    Pipeline::new(source, target)
        .workdir(dir.join(name))
        .extra(SETTINGS)
        .extra(extra)
        .write(&path)
        .unwrap();
    path
}

/// `bptmig --quiet <stage> --pipeline <pipeline>`, output piped; with `delay_ms`, every
/// chunk's transaction waits that long before it commits.
pub fn stage(stage: &str, pipeline: &Path, delay_ms: Option<u64>) -> Command {
    let mut cmd = common::bptmig(["--quiet", stage, "--pipeline", pipeline.to_str().unwrap()]);
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    if let Some(ms) = delay_ms {
        cmd.env("BPTMIG_TEST_CHUNK_DELAY_MS", ms.to_string());
    }
    cmd
}

pub fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Runs `stage`, which must exit with one of `codes`; its output.
pub fn run(name: &str, pipeline: &Path, codes: &[i32]) -> String {
    let out = stage(name, pipeline, None).output().unwrap();
    assert!(
        out.status.code().is_some_and(|c| codes.contains(&c)),
        "{name}: exit {:?}: {}",
        out.status.code(),
        text(&out)
    );
    text(&out)
}

/// Extract and transform (exit 1: the report lists users set to NULL).
pub fn prepare(pipeline: &Path) {
    run("extract", pipeline, &[0]);
    run("transform", pipeline, &[0, 1]);
}

/// bptmig's four tables as an OutSystems developer publishes them: entities with an `ID`
/// identity (Long Integer), Text attributes of their default length 50 where that is long
/// enough, the others longer, and nothing mandatory.
pub const ENTITY_TABLES: &[&str] = &[
    "CREATE TABLE OSUSR_BPT_LEDGER (ID BIGINT IDENTITY(1,1) PRIMARY KEY, RUN_ID NVARCHAR(50) NULL, \
     TABLE_NAME NVARCHAR(50) NULL, CHUNK NVARCHAR(50) NULL, ROWS_LOADED INT NULL, \
     DIGEST NVARCHAR(100) NULL, MIN_ID INT NULL, MAX_ID INT NULL, LOADED_AT DATETIME NULL)",
    "CREATE TABLE OSUSR_BPT_TREES (ID BIGINT IDENTITY(1,1) PRIMARY KEY, \
     SOURCE_FINGERPRINT NVARCHAR(100) NULL, SOURCE_ROOT_ID INT NULL, \
     SOURCE_LAST_MODIFIED DATETIME NULL, RUN_ID NVARCHAR(50) NULL, TARGET_ROOT_ID INT NULL, \
     LOADED_AT DATETIME NULL)",
    "CREATE TABLE OSUSR_BPT_LOCK (ID BIGINT IDENTITY(1,1) PRIMARY KEY, LOCK_NAME NVARCHAR(50) NULL, \
     TOKEN NVARCHAR(50) NULL, RUN_ID NVARCHAR(50) NULL, ACTION NVARCHAR(50) NULL, \
     HOST NVARCHAR(250) NULL, PID INT NULL, WORKDIR NVARCHAR(2000) NULL, TAKEN_AT DATETIME NULL, \
     HEARTBEAT DATETIME NULL)",
    "CREATE TABLE OSUSR_BPT_PAIRS (ID BIGINT IDENTITY(1,1) PRIMARY KEY, RUN_ID NVARCHAR(50) NULL, \
     TABLE_NAME NVARCHAR(50) NULL, CHUNK NVARCHAR(50) NULL, OLD_ID INT NULL, NEW_ID INT NULL)",
];

pub async fn execute_all(client: &mut SqlClient, statements: &[&str]) {
    for s in statements {
        bptmig_sandbox::sql::execute(client, s).await.unwrap();
    }
}

/// The words of `sql` outside its text literals, upper-cased.
pub fn words(sql: &str) -> Vec<String> {
    let mut code = String::with_capacity(sql.len());
    let mut quoted = false;
    let mut chars = sql.chars().peekable();
    while let Some(ch) = chars.next() {
        match (quoted, ch) {
            (false, '\'') => quoted = true,
            (true, '\'') if chars.peek() == Some(&'\'') => {
                chars.next();
            }
            (true, '\'') => quoted = false,
            (false, _) => code.push(ch),
            (true, _) => {}
        }
    }
    code.split(|ch: char| !(ch.is_ascii_alphanumeric() || ch == '_'))
        .filter(|w| !w.is_empty())
        .map(str::to_ascii_uppercase)
        .collect()
}

/// The transform's `references.json`: `SS_TYPE`s and subscription columns that hold
/// instance identifiers.
#[derive(Debug, Default, serde::Deserialize)]
struct Types {
    #[serde(default)]
    instance_types: HashMap<String, String>,
    #[serde(default)]
    instance_columns: HashMap<String, HashMap<String, String>>,
}

/// A target's moved rows with every instance ID put back to the source's, through the
/// load's maps of its work directory: two targets loaded from the same extract hold the same
/// canonical rows whatever IDs they gave them, trees included (every parent, top and
/// precedent is compared as the source row it names).
pub struct Canon {
    /// Per table: target ID → source ID.
    back: HashMap<String, HashMap<i64, i64>>,
    types: Types,
}

impl Canon {
    pub fn new(workdir: &Path) -> Self {
        let mut back = HashMap::new();
        for t in c::INSTANCE_TABLES {
            let map = testing::read_map(workdir, "load", t.name).unwrap();
            let inverse = map
                .into_iter()
                .map(|(old, new)| (i64::from(new), i64::from(old)))
                .collect();
            back.insert(t.name.to_owned(), inverse);
        }
        let types = std::fs::read(workdir.join("transform/references.json"))
            .map(|b| serde_json::from_slice(&b).unwrap())
            .unwrap_or_default();
        Self { back, types }
    }

    /// Rows moved into each table (of [`HISTORY_TABLES`]), canonical, sorted.
    pub async fn tables(&self, client: &mut SqlClient) -> Vec<(String, Vec<String>)> {
        let mut out = Vec::new();
        for t in HISTORY_TABLES {
            out.push(((*t).to_owned(), self.rows(client, t).await));
        }
        out
    }

    fn to_source(&self, table: &str, v: i64) -> String {
        match self.back.get(table).and_then(|m| m.get(&v)) {
            Some(s) => format!("src:{s}"),
            None => format!("unmoved:{v}"),
        }
    }

    async fn rows(&self, client: &mut SqlClient, table: &str) -> Vec<String> {
        let (names, rows) = testing::table_rows(client, table).await.unwrap();
        let model = c::table(table)
            .copied()
            .unwrap_or_else(|| c::osevt_table("OSEVT"));
        let named = |n: &str| names.iter().position(|x| x.eq_ignore_ascii_case(n));
        let (owner_col, owner_table) = match model.key {
            Some(k) => (named(k), table),
            None => (named(c::EVT_ACTIVITY_ID), c::ACTIVITY),
        };
        let mut out = Vec::new();
        for cells in rows {
            let owner = owner_col.and_then(|i| int(&cells[i]));
            if !owner.is_some_and(|o| self.back[owner_table].contains_key(&o)) {
                continue;
            }
            let ss_type = named(c::SS_TYPE).and_then(|i| match &cells[i] {
                Cell::Text(t) => Some(t.clone()),
                _ => None,
            });
            let mut line = Vec::with_capacity(cells.len());
            for (name, cell) in names.iter().zip(&cells) {
                let to = self.points_into(table, &model, name, ss_type.as_deref());
                let shown = match (to, int(cell)) {
                    (Some(to), Some(v)) if v != 0 => self.to_source(&to, v),
                    _ => format!("{cell:?}"),
                };
                line.push(format!("{name}={shown}"));
            }
            out.push(line.join("|"));
        }
        out.sort();
        out
    }

    /// The instance table column `name` of a row of `table` points into, if any.
    fn points_into(
        &self,
        table: &str,
        model: &c::Table,
        name: &str,
        ss_type: Option<&str>,
    ) -> Option<String> {
        if model.key.is_some_and(|k| k.eq_ignore_ascii_case(name)) {
            return Some(table.to_owned());
        }
        if let Some(to) = self
            .types
            .instance_columns
            .get(table)
            .and_then(|m| m.get(name))
        {
            return Some(to.clone());
        }
        match model.column(name).map(|col| col.role) {
            Some(ColumnRole::Fk {
                kind: FkKind::Instance,
                table,
            }) => Some(table.to_owned()),
            Some(ColumnRole::EntityRefValue { .. }) => ss_type
                .and_then(|t| self.types.instance_types.get(t))
                .cloned(),
            _ => None,
        }
    }
}

/// An integer cell, or a text cell holding a plain integer.
fn int(cell: &Cell) -> Option<i64> {
    match cell {
        Cell::Int(v) => Some(*v),
        Cell::Text(s) => {
            let digits = s.strip_prefix('-').unwrap_or(s);
            (!digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
                .then(|| s.parse().ok())
                .flatten()
        }
        _ => None,
    }
}

/// `(old, new)` of every pair in the pairs table `table`, per table name.
pub async fn pairs(client: &mut SqlClient, table: &str) -> HashMap<String, Vec<(i64, i64)>> {
    let rows = client
        .simple_query(format!("SELECT TABLE_NAME, OLD_ID, NEW_ID FROM {table}"))
        .await
        .unwrap()
        .into_first_result()
        .await
        .unwrap();
    let mut out: HashMap<String, Vec<(i64, i64)>> = HashMap::new();
    for r in &rows {
        out.entry(bptmig_db::text_cell(r, 0).unwrap())
            .or_default()
            .push((
                bptmig_db::int_cell(r, 1).unwrap(),
                bptmig_db::int_cell(r, 2).unwrap(),
            ));
    }
    out
}

/// Checks that `pairs` (of a pairs table) hold one pair per moved row of each keyed table:
/// old IDs once each, new IDs distinct, each new ID a row the target holds, as many as the
/// ledger `ledger` lists rows of that table.
pub async fn assert_pairs_complete(client: &mut SqlClient, pairs_table: &str, ledger: &str) {
    let all = pairs(client, pairs_table).await;
    for t in c::INSTANCE_TABLES {
        let got = all.get(t.name).cloned().unwrap_or_default();
        let ledgered = ledgered_rows(client, ledger, Some(t.name)).await;
        assert_eq!(got.len() as i64, ledgered, "pairs of `{}`", t.name);
        let mut olds: Vec<i64> = got.iter().map(|p| p.0).collect();
        let mut news: Vec<i64> = got.iter().map(|p| p.1).collect();
        olds.sort_unstable();
        olds.dedup();
        news.sort_unstable();
        news.dedup();
        assert_eq!(
            (olds.len(), news.len()),
            (got.len(), got.len()),
            "`{}`",
            t.name
        );
        let ids: std::collections::HashSet<i64> = client
            .simple_query(format!("SELECT ID FROM {}", t.name))
            .await
            .unwrap()
            .into_first_result()
            .await
            .unwrap()
            .iter()
            .filter_map(|r| bptmig_db::int_cell(r, 0))
            .collect();
        assert!(
            news.iter().all(|n| ids.contains(n)),
            "new IDs of `{}` in the target",
            t.name
        );
    }
    assert_ledger_bounds_are_target_ids(client, pairs_table, ledger).await;
}

/// Every ledger row of a keyed table names the smallest and largest ID its chunk's rows got
/// in the target (its pairs' new IDs), not their source IDs.
async fn assert_ledger_bounds_are_target_ids(
    client: &mut SqlClient,
    pairs_table: &str,
    ledger: &str,
) {
    let key = |r: &[Cell]| match (&r[0], &r[1]) {
        (Cell::Text(t), Cell::Text(c)) => (t.clone(), c.clone()),
        other => panic!("{other:?}"),
    };
    let mut by_chunk: BTreeMap<(String, String), (i64, i64)> = BTreeMap::new();
    let sql = format!("SELECT TABLE_NAME, CHUNK, NEW_ID FROM {pairs_table}");
    for r in testing::query_cells(client, &sql).await.unwrap().1 {
        let n = int(&r[2]).unwrap();
        let e = by_chunk.entry(key(&r)).or_insert((n, n));
        *e = (e.0.min(n), e.1.max(n));
    }
    assert!(!by_chunk.is_empty());
    let sql = format!("SELECT TABLE_NAME, CHUNK, MIN_ID, MAX_ID FROM {ledger}");
    let ledgered = testing::query_cells(client, &sql).await.unwrap().1;
    for r in &ledgered {
        if let Some(&(lo, hi)) = by_chunk.get(&key(r)) {
            assert_eq!((int(&r[2]), int(&r[3])), (Some(lo), Some(hi)), "{r:?}");
        }
    }
}

/// Rows the ledger `ledger` lists as loaded, of `table` or of all (0 while it does not exist).
pub async fn ledgered_rows(client: &mut SqlClient, ledger: &str, table: Option<&str>) -> i64 {
    let filter = table.map_or(String::new(), |t| format!(" WHERE TABLE_NAME = '{t}'"));
    let Ok((_, rows)) =
        testing::query_cells(client, &format!("SELECT ROWS_LOADED FROM {ledger}{filter}")).await
    else {
        return 0;
    };
    rows.iter().filter_map(|r| int(&r[0])).sum()
}
