//! Every statement the load, verify and rollback send whose text depends on the rows stays
//! bounded whatever the number of rows: plans of 10^6 rows, dense and sparse, in chunks of the
//! default size and in one chunk. Queries (sent with `sp_executesql`) stay within
//! [`MAX_QUERY_CHARS`], batches within 64 KiB; and long sparse lookups run on the sandbox.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use bptmig_model::catalog as c;
use bptmig_workdir::{Manifest, ManifestColumn, PartEntry};

use crate::ledger::trees::{self, TreeRecord};
use crate::ledger::{self, LedgerRow, LedgerTables};
use crate::plan::{
    ranges_of, Chunk, Fixup, LoadPlan, References, TableInput, TreeIndex, MAX_QUERY_CHARS,
};
use crate::rollback::chunk_statements;
use crate::target;
use crate::verify::read_back_ranges;
use crate::writer::transaction::fixup_batches;

/// The bound every batch must keep.
const MAX_BATCH: usize = 64 * 1024;
const ROWS: i32 = 1_000_000;

fn table(name: &str) -> TableInput {
    let model = c::table(name)
        .copied()
        .unwrap_or_else(|| c::osevt_table(bptmig_model::graph::OSEVT_NODE));
    TableInput {
        name: name.to_owned(),
        spelled: name.to_owned(),
        model,
        dir: PathBuf::from("/nowhere"),
        manifest: Manifest {
            table: name.to_owned(),
            run_id: "run".into(),
            key: None,
            columns: vec![ManifestColumn {
                name: c::ID.into(),
                sql_type: "int".into(),
            }],
            complete: true,
            parts: vec![PartEntry {
                file: "part-00000.parquet".into(),
                rows: ROWS as u64,
                min_key: None,
                max_key: None,
                bytes: 0,
                sha256: String::new(),
            }],
        },
        columns: model
            .columns
            .iter()
            .map(|col| col.name.to_owned())
            .collect(),
    }
}

/// A plan of processes, activities and subscriptions, `ROWS` each, with IDs `id(i)`, in
/// chunks of `chunk_rows`; every process a root that references itself (a fix-up), every
/// activity's precedent loaded later (a forward fix-up), every row a user of its own.
fn plan(id: impl Fn(i32) -> i32, chunk_rows: usize) -> LoadPlan {
    let tables = vec![
        table(c::PROCESS),
        table(c::ACTIVITY),
        table("OSEVT_OSUSR_3AR_CANDIDATE"),
    ];
    let mut chunks = Vec::new();
    for (ti, t) in tables.iter().enumerate() {
        let rows: Vec<u32> = (0..ROWS as u32).collect();
        for (seq, slice) in rows.chunks(chunk_rows).enumerate() {
            let ids: Vec<i32> = slice.iter().map(|&r| id(r as i32)).collect();
            let fixups = slice
                .iter()
                .map(|&r| Fixup {
                    table: t.name.clone(),
                    spelled: t.spelled.clone(),
                    column: if ti == 0 {
                        c::TOP_PROCESS_ID.into()
                    } else {
                        c::PRECEDENT_ACTIVITY_ID.into()
                    },
                    id: id(r as i32),
                    value: if ti == 0 {
                        id(r as i32)
                    } else {
                        id(r as i32) + 1
                    },
                })
                .collect();
            chunks.push(Chunk {
                table: ti,
                level: (ti < 2).then_some(0),
                part: 0,
                seq,
                rows: slice.to_vec(),
                ranges: ranges_of(&ids),
                nulls: Vec::new(),
                fixups: if ti < 2 { fixups } else { Vec::new() },
            });
        }
    }
    let mut references = References::default();
    let users: BTreeMap<i64, u64> = (0..ROWS).map(|i| (i64::from(id(i)), 1)).collect();
    references.0.insert(
        (c::PROCESS.to_owned(), c::CREATED_BY.to_owned(), c::USER),
        users,
    );
    LoadPlan {
        tables,
        chunks,
        fixups: 0,
        references,
        trees: TreeIndex::default(),
    }
}

/// Every row-dependent statement of `plan`, each handed to `out`: the pre-load checks, each
/// chunk's transaction, verify's read-backs, rollback's deletes, the tree ledger's lookups.
fn statements(plan: &LoadPlan, out: &mut Bounded) {
    let tables = LedgerTables::new("BPTMIG_LEDGER");
    for (ti, t) in plan.tables.iter().enumerate() {
        let ranges = plan.table_ranges(ti);
        out.queries(target::count_statements(&t.name, t.id_column(), &ranges));
        let select = t.columns.join(", ");
        out.queries(target::read_back_statements(
            t,
            &select,
            &read_back_ranges(plan, ti),
        ));
    }
    let mut wanted: BTreeMap<&'static str, BTreeSet<i64>> = BTreeMap::new();
    for ((_, _, to), values) in &plan.references.0 {
        wanted.entry(to).or_default().extend(values.keys().copied());
    }
    let names = bptmig_db::Names::from_spellings(
        bptmig_db::Side::Target,
        wanted.keys().map(|to| to.to_ascii_lowercase()),
    );
    out.queries(
        target::reference_statements(&wanted, &names)
            .unwrap()
            .into_iter()
            .map(|(_, sql)| sql),
    );
    for chunk in &plan.chunks {
        let row = LedgerRow {
            table: plan.tables[chunk.table].name.clone(),
            chunk: chunk.name(),
            rows: chunk.len() as i64,
            digest: "v2:".to_owned() + &"0".repeat(60),
        };
        out.extend(fixup_batches(&chunk.fixups));
        out.extend([ledger::insert_sql(
            &tables.chunks,
            "run",
            &row,
            chunk.id_bounds(),
        )]);
        out.extend(chunk_statements(plan, chunk, &tables, "run", &row));
        if chunk.table == 0 {
            let records: Vec<TreeRecord> = chunk
                .ranges
                .iter()
                .flat_map(|&(a, b)| a..=b)
                .map(|id| TreeRecord {
                    source_root_id: id,
                    last_modified_literal: "CAST('2019-11-26T12:03:25.997' AS DATETIME)".into(),
                    target_root_id: id,
                })
                .collect();
            out.extend(trees::record_statements(
                &tables.trees,
                "fp",
                "run",
                &records,
            ));
        }
    }
    let roots: Vec<i32> = plan
        .chunks
        .iter()
        .filter(|ch| ch.table == 0)
        .flat_map(|ch| ch.ranges.iter().flat_map(|&(a, b)| a..=b))
        .collect();
    out.queries(trees::lookup_statements(
        &tables.trees,
        "fp",
        Some("run"),
        &roots,
    ));
}

/// The statements seen: how many, and the longest query and batch.
#[derive(Default)]
struct Bounded {
    count: usize,
    longest_query: usize,
    longest_batch: usize,
}

impl Bounded {
    /// Batches, sent with `simple_query`.
    fn extend(&mut self, statements: impl IntoIterator<Item = String>) {
        for s in statements {
            self.count += 1;
            self.longest_batch = self.longest_batch.max(s.len());
        }
    }

    /// Queries, sent with `sp_executesql`.
    fn queries(&mut self, statements: impl IntoIterator<Item = String>) {
        for s in statements {
            self.count += 1;
            self.longest_query = self.longest_query.max(s.len());
        }
    }
}

#[test]
fn no_statement_grows_with_the_rows() {
    for (shape, id) in [
        ("dense", (|i| 1_000 + i) as fn(i32) -> i32),
        ("sparse", |i| 1_000 + 3 * i),
    ] {
        for chunk_rows in [5_000, ROWS as usize] {
            let mut seen = Bounded::default();
            statements(&plan(id, chunk_rows), &mut seen);
            assert!(seen.count > 1_000, "{shape}, chunks of {chunk_rows}");
            assert!(
                seen.longest_query <= MAX_QUERY_CHARS,
                "{shape}, chunks of {chunk_rows}: a query of {} bytes",
                seen.longest_query
            );
            assert!(
                seen.longest_batch < MAX_BATCH,
                "{shape}, chunks of {chunk_rows}: a batch of {} bytes",
                seen.longest_batch
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn long_sparse_lookups_run_on_the_sandbox() {
    let spec = bptmig_sandbox::EnvSpec {
        processes: 1,
        ..bptmig_sandbox::EnvSpec::default()
    };
    let qa = bptmig_sandbox::Environment::start(bptmig_sandbox::EnvKind::Qa, &spec)
        .await
        .unwrap();
    let mut client = qa.connect().await.unwrap();
    let sparse: Vec<i32> = (0..5_000).map(|i| 1_000_000 + 3 * i).collect();
    let ranges = ranges_of(&sparse);
    let n = target::count_in(&mut client, c::PROCESS, c::ID, &ranges)
        .await
        .unwrap();
    assert_eq!(n, 0);
    ledger::ensure(&mut client, "BPTMIG_LEDGER").await.unwrap();
    let found = trees::recorded(&mut client, "BPTMIG_TREES", "fp", None, &sparse)
        .await
        .unwrap();
    assert!(found.is_empty());
    let mut refs = References::default();
    refs.0.insert(
        (c::PROCESS.to_owned(), c::CREATED_BY.to_owned(), c::USER),
        sparse.iter().map(|&v| (i64::from(v), 1)).collect(),
    );
    let missing = target::missing_references(&mut client, &refs)
        .await
        .unwrap();
    assert_eq!(missing.len(), sparse.len());
}

/// Every statement names a table as the target's catalog spells it once the plan is spelled:
/// the work directory's upper-case name never reaches the SQL.
#[test]
fn statements_name_tables_as_the_target_spells_them() {
    use bptmig_db::{Names, Side};
    let mut plan = plan(|i| 1_000 + i, ROWS as usize);
    let spellings = [
        "ossys_BPM_Process",
        "ossys_BPM_Activity",
        "OSEVT_osusr_3ar_Candidate",
    ];
    let names = Names::from_spellings(Side::Target, spellings.map(str::to_owned));
    plan.spell(&names).unwrap();
    let t = &plan.tables[0];
    assert_eq!(
        (t.name.as_str(), t.sql()),
        (c::PROCESS, "[ossys_BPM_Process]".to_owned())
    );

    let ranges = plan.table_ranges(0);
    let mut sql = target::count_statements(&t.spelled, c::ID, &ranges);
    sql.extend(target::read_back_statements(t, "[ID]", &ranges));
    sql.push(crate::writer::insert::insert_header(t));
    for chunk in plan.chunks.iter().filter(|ch| ch.table < 2).take(2) {
        sql.extend(fixup_batches(&chunk.fixups));
        let row = LedgerRow {
            table: plan.tables[chunk.table].name.clone(),
            chunk: chunk.name(),
            rows: 0,
            digest: String::new(),
        };
        sql.extend(chunk_statements(
            &plan,
            chunk,
            &LedgerTables::new("X"),
            "run",
            &row,
        ));
    }
    let text = sql.join("\n");
    for spelled in spellings.iter().take(2) {
        assert!(
            text.contains(&format!("[{spelled}]")),
            "{spelled} in:\n{text}"
        );
    }
    assert!(
        !text.contains("[OSSYS_BPM"),
        "an upper-case name in:\n{text}"
    );

    // A table the target lacks in any case is named before anything is sent.
    let mut other = plan;
    let err = other
        .spell(&Names::from_spellings(
            Side::Target,
            ["ossys_BPM_Process".to_owned()],
        ))
        .unwrap_err()
        .to_string();
    assert!(err.contains("`OSSYS_BPM_ACTIVITY`"), "{err}");
}
