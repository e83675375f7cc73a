//! `bptmig load` against a raw baseline on the same sandbox server, side by side in one run.
//!
//! The baseline inserts exactly the rows the load inserts (same order, same deferred NULLs and
//! fix-ups, same statement size) with multi-row `INSERT … VALUES` statements rendered before
//! its clock starts, over one connection, without transactions or a ledger. The load is timed
//! whole: work-directory reading, pre-load checks, rendering, transactions, ledger rows.
//! Each writes into its own freshly seeded, identical qa server of the same build.
//!
//! Usage: `cargo bench -p bptmig-load --bench load_baseline [-- PROCESSES]` (default 150
//! top-level processes, a few thousand rows: the sandbox slows down as tables grow).
//! Target: load time ≤ 1.15 × baseline.
#![allow(clippy::unwrap_used, reason = "a bench fails loudly")]

use std::time::Instant;

use bptmig_db::quote_ident;
use bptmig_load::plan::{self, Chunk, LoadPlan, TableInput};
use bptmig_load::value::BoundBatch;
use bptmig_load::{LoadOptions, LoadSummary};
use bptmig_model::{NoProgress, PipelineConfig};
use bptmig_sandbox::{sql, EnvKind, EnvSpec, Environment};
use bptmig_workdir::WorkDir;

/// The ratio the load must stay within.
const TARGET_RATIO: f64 = 1.15;

fn main() {
    let processes = std::env::args()
        .skip(1)
        .find_map(|a| a.parse::<usize>().ok())
        .unwrap_or(150);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(run(processes));
}

async fn run(processes: usize) {
    let spec = EnvSpec {
        processes,
        ..EnvSpec::default()
    };
    let prod = Environment::start(EnvKind::Prod, &spec).await.unwrap();
    let qa = Environment::start(EnvKind::Qa, &spec).await.unwrap();
    // The baseline's own qa, seeded identically: rows deleted by a rollback would leave the
    // sandbox's tables in a different state than a fresh one.
    let qa_base = Environment::start(EnvKind::Qa, &spec).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = extracted_and_transformed(dir.path(), &prod, &qa).await;

    // bptmig load, timed whole.
    let started = Instant::now();
    let summary = bptmig_load::load(&config, &NoProgress, &LoadOptions::default())
        .await
        .unwrap();
    let load_secs = started.elapsed().as_secs_f64();

    // The baseline: the same statements, rendered before the clock starts.
    let statements = baseline_statements(&config);
    let mut client = qa_base.connect().await.unwrap();
    let started = Instant::now();
    for s in &statements {
        sql::execute(&mut client, s).await.unwrap();
    }
    let base_secs = started.elapsed().as_secs_f64();
    print_report(&summary, load_secs, base_secs, statements.len());
}

/// A pipeline from `prod` to `qa` in `dir`, extracted and transformed.
async fn extracted_and_transformed(
    dir: &std::path::Path,
    prod: &Environment,
    qa: &Environment,
) -> PipelineConfig {
    let text = format!(
        "workdir = \"{}\"\n[source]\nconnection = \"{}\"\n[target]\nconnection = \"{}\"\n\
         [mapping]\nunmapped_user = \"null\"\nunmapped_group = \"null\"\n\
         unmapped_definition = \"skip-tree\"\n[load]\nstrategy = \"insert\"\n",
        dir.join("work").display(),
        prod.server.connection_template("PW"),
        qa.server.connection_template("PW"),
    );
    let path = dir.join("pipeline.toml");
    std::fs::write(&path, &text).unwrap();
    let config = PipelineConfig::parse(&text, &path, &|_| {
        Some(bptmig_sandbox::DEFAULT_PASSWORD.to_owned())
    })
    .unwrap();
    bptmig_extract::extract(
        &config,
        &NoProgress,
        &bptmig_extract::ExtractOptions::default(),
    )
    .await
    .unwrap();
    bptmig_transform::transform(&config, &NoProgress).unwrap();
    config
}

/// Every statement the baseline runs: the load's rows in the load's order, with
/// `IDENTITY_INSERT` switched where the table changes.
fn baseline_statements(config: &PipelineConfig) -> Vec<String> {
    let wd = WorkDir::new(&config.workdir);
    let plan = LoadPlan::build(&wd, config.load.chunk_rows).unwrap();
    let mut statements: Vec<String> = Vec::new();
    let mut identity: Option<String> = None;
    for chunk in &plan.chunks {
        let t = &plan.tables[chunk.table];
        let want = t.has_key().then(|| t.name.clone());
        if identity != want {
            if let Some(old) = identity.take() {
                statements.push(format!("SET IDENTITY_INSERT {} OFF", quote_ident(&old)));
            }
            if let Some(new) = &want {
                statements.push(format!("SET IDENTITY_INSERT {} ON", quote_ident(new)));
            }
            identity = want;
        }
        chunk_statements(t, chunk, config.load.batch_rows, &mut statements);
    }
    if let Some(old) = identity {
        statements.push(format!("SET IDENTITY_INSERT {} OFF", quote_ident(&old)));
    }
    statements
}

/// The `INSERT`s of `chunk`, `batch_rows` rows each, and its fix-ups.
fn chunk_statements(t: &TableInput, chunk: &Chunk, batch_rows: usize, out: &mut Vec<String>) {
    let part = t.read_part(chunk.part).unwrap();
    let batch = plan::chunk_batch(&part, chunk).unwrap();
    let cols = t.column_names();
    let bound = BoundBatch::new(&batch, &cols).unwrap();
    let header = format!(
        "INSERT INTO {} ({}) VALUES ",
        quote_ident(&t.name),
        cols.iter()
            .map(|c| quote_ident(c))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let ids: Vec<usize> = (0..bound.num_rows()).collect();
    for group in ids.chunks(batch_rows) {
        let mut s = header.clone();
        for (i, r) in group.iter().enumerate() {
            if i > 0 {
                s.push_str(", ");
            }
            bound.render_row(&mut s, *r).unwrap();
        }
        out.push(s);
    }
    // Self references in one statement per chunk, like the load (a fair baseline).
    let own: Vec<String> = chunk
        .fixups
        .iter()
        .filter(|f| f.id == f.value)
        .map(|f| f.id.to_string())
        .collect();
    if let Some(f) = chunk.fixups.iter().find(|f| f.id == f.value) {
        out.push(format!(
            "UPDATE {} SET {} = ID WHERE ID IN ({})",
            quote_ident(&f.table),
            quote_ident(&f.column),
            own.join(",")
        ));
    }
    for f in chunk.fixups.iter().filter(|f| f.id != f.value) {
        out.push(format!(
            "UPDATE {} SET {} = {} WHERE ID = {}",
            quote_ident(&f.table),
            quote_ident(&f.column),
            f.value,
            f.id
        ));
    }
}

fn print_report(summary: &LoadSummary, load_secs: f64, base_secs: f64, statements: usize) {
    let rows: u64 = summary.tables.iter().map(|t| t.loaded).sum();
    let ratio = load_secs / base_secs;
    println!(
        "load_baseline: {rows} rows ({} chunks, {} fix-ups) into sandbox qa",
        summary.chunks_loaded, summary.fixups
    );
    println!(
        "  bptmig load  {load_secs:>8.2} s  {:>9.0} rows/s",
        rows as f64 / load_secs
    );
    println!(
        "  baseline     {base_secs:>8.2} s  {:>9.0} rows/s  ({statements} statements)",
        rows as f64 / base_secs,
    );
    println!(
        "  ratio        {ratio:>8.3}  (target <= {TARGET_RATIO}): {}",
        if ratio <= TARGET_RATIO {
            "met"
        } else {
            "NOT met"
        }
    );
}
