//! What the integrity tests share: a prod and qa pair, pipelines between them each with a
//! work directory of its own, a run's extract and transform, qa's moved tables.

use std::path::{Path, PathBuf};
use std::time::Duration;

use bptmig_load::{LoadOptions, LoadSummary};
use bptmig_model::{NoProgress, PipelineConfig};
use bptmig_sandbox::generator::HISTORY_TABLES;
use bptmig_sandbox::testing::{Pair, Pipeline};
use bptmig_sandbox::{sql, EnvSpec, SqlClient};

/// The mapping every pipeline of these tests uses: qa lacks some users, groups and
/// definitions of prod.
pub const MAPPING: &str = "[mapping]\nunmapped_user = \"null\"\nunmapped_group = \"null\"\n\
                           unmapped_definition = \"skip-tree\"\n";

/// A pair and a directory for its pipelines.
pub struct Runs {
    pub pair: Pair,
    dir: tempfile::TempDir,
}

impl Runs {
    pub async fn start(processes: usize) -> Self {
        let spec = EnvSpec {
            processes,
            ..EnvSpec::default()
        };
        Self {
            pair: Pair::start(&spec).await.unwrap(),
            dir: tempfile::tempdir().unwrap(),
        }
    }

    /// Pipeline `name` from prod to qa (work directory `<dir>/<name>`): `target` goes into
    /// `[target]`, `extra` after the mapping.
    pub fn config(&self, name: &str, target: &str, extra: &str) -> PipelineConfig {
        self.config_of(self.pair.pipeline(), name, target, extra)
    }

    /// Pipeline `name` from `pipeline`'s endpoints.
    pub fn config_of(
        &self,
        pipeline: Pipeline,
        name: &str,
        target: &str,
        extra: &str,
    ) -> PipelineConfig {
        pipeline
            .workdir(self.workdir(name))
            .extra(target)
            .extra(MAPPING)
            .extra(extra)
            .config(&self.dir.path().join(format!("{name}.toml")))
            .unwrap()
    }

    pub fn workdir(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub async fn qa(&self) -> SqlClient {
        self.pair.qa.connect().await.unwrap()
    }
}

pub async fn extract_transform(config: &PipelineConfig) {
    bptmig_extract::extract(
        config,
        &NoProgress,
        &bptmig_extract::ExtractOptions::default(),
    )
    .await
    .unwrap();
    bptmig_transform::transform(config, &NoProgress).unwrap();
}

/// The content of every history table of qa, and of the queues.
pub async fn history(qa: &mut SqlClient) -> Vec<(String, Vec<String>)> {
    let mut out = Vec::new();
    for t in HISTORY_TABLES {
        out.push(((*t).to_owned(), sql::table_content(qa, t).await.unwrap()));
    }
    out
}

pub async fn count(qa: &mut SqlClient, sql_text: &str) -> i64 {
    sql::scalar_i64(qa, sql_text).await.unwrap()
}

/// `report.json` of work directory `wd`.
pub fn report(wd: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(wd.join("report.json")).unwrap()).unwrap()
}

/// Chunks qa's ledger lists (none before the first load creates it).
pub async fn ledgered(qa: &mut SqlClient) -> i64 {
    sql::scalar_i64(qa, "SELECT COUNT(*) FROM BPTMIG_LEDGER")
        .await
        .unwrap_or(0)
}

/// A load of `config` started on its own task, returned once qa's ledger lists `chunks`
/// more chunks than before (the load must still be running then).
pub async fn load_until_ledgered(
    config: &PipelineConfig,
    options: LoadOptions,
    qa: &mut SqlClient,
    chunks: i64,
) -> tokio::task::JoinHandle<bptmig_load::Result<LoadSummary>> {
    let before = ledgered(qa).await;
    let config = config.clone();
    let load = tokio::spawn(async move { bptmig_load::load(&config, &NoProgress, &options).await });
    loop {
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(
            !load.is_finished(),
            "the load ended early: {:?}",
            load.await
        );
        if ledgered(qa).await >= before + chunks {
            return load;
        }
    }
}
