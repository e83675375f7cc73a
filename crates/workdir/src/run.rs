//! `run.json`: the run's identity and how far each stage got.

use std::collections::BTreeMap;

use bptmig_model::pipeline::PipelineConfig;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::atomic::{hex, read_json, write_json_atomic};
use crate::layout::WorkDir;
use crate::{Error, Result};

/// `run.json`: what this work directory belongs to and how far each stage got.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct RunState {
    pub run_id: String,
    /// SHA-256 of the pipeline file as written (secrets are `${VAR}` references there).
    pub pipeline_hash: String,
    pub source_fingerprint: String,
    pub target_fingerprint: String,
    /// Stage name → state.
    #[serde(default)]
    pub stages: BTreeMap<String, StageState>,
    /// The target server's clock when the extract took its snapshot (absent in a run
    /// extracted by an older bptmig, and in the sandbox's generated work directories).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_clock: Option<ServerClock>,
    /// The source snapshot was taken after the extract read the rows (so every extracted row
    /// lies at or below its table's identity unless older than a reseed). `false` in a run
    /// extracted by an older bptmig, whose source snapshot came first: its next extract takes
    /// it again.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub source_snapshot_after_rows: bool,
}

/// A server's own clock at one moment: `GETDATE()` (the server's local time, in which the
/// platform writes `NEXT_RUN`) as `CONVERT(VARCHAR(33), …, 126)` writes it, and this
/// machine's UTC clock at that moment.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ServerClock {
    pub server_now: String,
    /// Milliseconds since 1970-01-01 UTC by this machine's clock.
    pub read_at_ms: i64,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum StageState {
    Running,
    Done,
    /// The stage ran to its end and found the run wrong (a failed verify).
    Failed,
}

impl RunState {
    /// Reads `run.json`, or `None` when the work directory is new.
    pub fn read(dir: &WorkDir) -> Result<Option<Self>> {
        read_json(&dir.run_file())
    }

    pub fn write(&self, dir: &WorkDir) -> Result<()> {
        write_json_atomic(&dir.run_file(), self)
    }
}

/// A new run id: time, pid and path hashed, 16 hex digits.
pub fn new_run_id(dir: &WorkDir) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let mut h = Sha256::new();
    h.update(now.to_le_bytes());
    h.update(std::process::id().to_le_bytes());
    h.update(dir.root().to_string_lossy().as_bytes());
    hex(&h.finalize()[..8])
}

/// A stable identity of an endpoint: its server and database, hashed.
pub fn fingerprint(connection: &str) -> String {
    let mut server = String::new();
    let mut database = String::new();
    for part in connection.split(';') {
        if let Some((k, v)) = part.split_once('=') {
            let k = k.trim().to_ascii_lowercase();
            let v = v.trim().to_ascii_lowercase();
            match k.as_str() {
                "server" | "data source" | "address" | "addr" => server = v,
                "database" | "initial catalog" => database = v,
                _ => {}
            }
        }
    }
    let mut h = Sha256::new();
    h.update(server.as_bytes());
    h.update(b";");
    h.update(database.as_bytes());
    hex(&h.finalize()[..8])
}

/// The side (`"source"` or `"target"`) whose connection no longer matches the database the
/// work directory was started for, if any.
pub fn other_databases(run: &RunState, config: &PipelineConfig) -> Option<&'static str> {
    [
        ("source", &run.source_fingerprint, &config.source),
        ("target", &run.target_fingerprint, &config.target),
    ]
    .into_iter()
    .find(|(_, had, ep)| **had != fingerprint(ep.connection.expose()))
    .map(|(side, _, _)| side)
}

/// Reads or starts `run.json`, refusing a work directory that belongs to other databases.
pub fn open_run(wd: &WorkDir, config: &PipelineConfig) -> Result<RunState> {
    let text =
        std::fs::read(&config.path).map_err(|e| Error::io(&config.path, "read the pipeline", e))?;
    let pipeline_hash = hex(&Sha256::digest(&text));
    match RunState::read(wd)? {
        Some(run) => {
            if let Some(side) = other_databases(&run, config) {
                return Err(Error::WorkdirMismatch {
                    workdir: wd.root().to_owned(),
                    what: side,
                });
            }
            if run.pipeline_hash != pipeline_hash {
                tracing::warn!(
                    "the pipeline file changed since this work directory was started; \
                     finished stages keep their results"
                );
            }
            Ok(run)
        }
        None => {
            let run = RunState {
                run_id: new_run_id(wd),
                pipeline_hash,
                source_fingerprint: fingerprint(config.source.connection.expose()),
                target_fingerprint: fingerprint(config.target.connection.expose()),
                stages: BTreeMap::new(),
                target_clock: None,
                source_snapshot_after_rows: false,
            };
            run.write(wd)?;
            Ok(run)
        }
    }
}
