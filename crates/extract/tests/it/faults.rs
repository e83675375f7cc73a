//! Transient faults between the extract and the source: a cut connection, a stalled server,
//! through the sandbox's fault-injecting proxy.

use std::path::PathBuf;
use std::time::Duration;

use bptmig_db::Fault;
use bptmig_extract::{Error, Step};
use bptmig_model::PipelineConfig;
use bptmig_sandbox::testing::{FaultProxy, ProxyFault, ProxyPlan};
use bptmig_sandbox::{EnvSpec, Environment};

use crate::{assert_same_files, envs, extract_files, pipeline_with_keys, same_run_as, PW_VAR};

/// Small parts, so that a cut falls inside a table of many parts.
const EXTRACT: &str = "[extract]\npart_rows = 100\nrow_group_rows = 30\n";

/// prod behind a proxy, qa, and a reference extract through the proxy without a fault.
struct Through {
    _prod: Environment,
    qa: Environment,
    proxy: FaultProxy,
    /// The reference extract's work directory.
    reference: PathBuf,
    /// The bytes the source sent the reference extract on its one connection.
    source_bytes: u64,
    dir: tempfile::TempDir,
}

impl Through {
    async fn start() -> Self {
        let (prod, qa) = envs(&EnvSpec::default()).await;
        let proxy = FaultProxy::start(prod.server.port(), ProxyPlan::pass()).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let mut this = Self {
            _prod: prod,
            qa,
            proxy,
            reference: PathBuf::new(),
            source_bytes: 0,
            dir,
        };
        let config = this.config("reference", "");
        crate::extract(&config).await.unwrap();
        let bytes = this.proxy.bytes_from_server();
        assert_eq!(bytes.len(), 1, "one source connection: {bytes:?}");
        this.reference = config.workdir;
        this.source_bytes = bytes[0];
        this
    }

    /// A pipeline in the subdirectory `name` from prod through the proxy to qa, with
    /// `side_keys` in both sides.
    fn config(&self, name: &str, side_keys: &str) -> PipelineConfig {
        let dir = self.dir.path().join(name);
        std::fs::create_dir_all(&dir).unwrap();
        pipeline_with_keys(
            &dir,
            &self.proxy.connection_template(PW_VAR),
            &self.qa.server.connection_template(PW_VAR),
            side_keys,
            EXTRACT,
        )
    }

    /// [`Through::config`], its work directory started under the reference's run id.
    fn same_run(&self, name: &str, side_keys: &str) -> PipelineConfig {
        let config = self.config(name, side_keys);
        same_run_as(&self.reference, &config.workdir);
        config
    }

    /// The extract of `config` is the reference's, byte for byte.
    fn assert_like_reference(&self, config: &PipelineConfig) {
        assert_same_files(
            &extract_files(&self.reference),
            &extract_files(&config.workdir),
        );
    }

    /// Once, two thirds into what the source sends an extract: inside the instance tables.
    fn once_at_two_thirds(&self, fault: impl Fn(u64) -> ProxyFault) {
        self.proxy
            .set_plan(ProxyPlan::once(fault(self.source_bytes * 2 / 3)));
    }
}

/// No part file left unfinished (`*.tmp`) under the extract.
fn no_unfinished_files(workdir: &std::path::Path) {
    for path in extract_files(workdir).keys() {
        assert!(
            !path.to_string_lossy().ends_with(".tmp"),
            "`{}` left behind",
            path.display()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_cut_mid_stream_is_retried_and_the_parquet_equals_an_uninterrupted_one() {
    let test = Through::start().await;
    let config = test.same_run("cut", "retries = 3\nretry_delay_secs = 0");
    test.once_at_two_thirds(|after_bytes| ProxyFault::Cut { after_bytes });

    let summary = crate::extract(&config).await.unwrap();

    assert!(!summary.already_done);
    assert_eq!(test.proxy.faults(), 1);
    // The reference's connection, the cut one, the one that finished.
    let connections = test.proxy.bytes_from_server();
    assert_eq!(connections.len(), 3, "{connections:?}");
    assert_eq!(connections[1], test.source_bytes * 2 / 3);
    test.assert_like_reference(&config);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_no_retries_a_cut_names_the_part_and_the_rerun_completes_identically() {
    let test = Through::start().await;
    let config = test.same_run("no-retries", "retries = 0");
    test.once_at_two_thirds(|after_bytes| ProxyFault::Cut { after_bytes });

    let err = crate::extract(&config).await.unwrap_err();

    let Error::RetriesSpent {
        step, side, fault, ..
    } = &err
    else {
        panic!("{err:?}");
    };
    assert!(matches!(step, Step::Part { .. }), "{step:?}");
    assert_eq!(*side, bptmig_db::Side::Source);
    assert!(matches!(fault, Fault::ConnectionLost { .. }), "{fault:?}");
    let message = err.to_string();
    for needle in [
        " of `OSSYS_BPM_",
        ".parquet`) on the source failed at once (`source.retries = 0`): the connection to the \
         source was lost (",
        "Nothing partial was kept",
        "run the same command again",
    ] {
        assert!(message.contains(needle), "{needle:?} not in: {message}");
    }
    assert!(!message.contains("SELECT"), "{message}");
    no_unfinished_files(&config.workdir);

    // The fault is spent: the same command resumes and ends as an uninterrupted extract.
    let resumed = crate::extract(&config).await.unwrap();
    assert!(resumed.tables.iter().any(|t| t.resumed_rows > 0));
    test.assert_like_reference(&config);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_source_times_out_naming_the_setting_and_a_retry_gets_past_it() {
    let test = Through::start().await;
    let stall = |after_bytes| ProxyFault::Stall {
        after_bytes,
        duration: Duration::from_secs(6),
    };

    let config = test.same_run("stalled", "command_timeout_secs = 2\nretries = 0");
    test.once_at_two_thirds(stall);
    let err = crate::extract(&config).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::RetriesSpent {
                fault: Fault::TimedOut,
                ..
            }
        ),
        "{err:?}"
    );
    let message = err.to_string();
    assert!(
        message.contains(
            "the source sent no answer within 2 s (`source.command_timeout_secs = 2`); if its \
             statements may take that long (a lock wait, a busy server), raise it (0 = no limit)"
        ),
        "{message}"
    );
    assert!(!message.contains("Config"), "{message}");

    // With a retry, the same stall costs one new connection.
    let config = test.same_run(
        "stalled-retried",
        "command_timeout_secs = 2\nretries = 1\nretry_delay_secs = 0",
    );
    test.once_at_two_thirds(stall);
    crate::extract(&config).await.unwrap();
    assert_eq!(test.proxy.faults(), 1);
    test.assert_like_reference(&config);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_source_that_cannot_be_reached_again_spends_the_retries() {
    let test = Through::start().await;
    // A second of delay gives the test time to refuse every connection after the cut.
    let config = test.same_run("unreachable", "retries = 2\nretry_delay_secs = 1");
    test.once_at_two_thirds(|after_bytes| ProxyFault::Cut { after_bytes });
    let started = test.proxy.bytes_from_server().len();

    // Every new connection is refused: the cut connection cannot be replaced.
    let extract = crate::extract(&config);
    let refuse = async {
        while test.proxy.faults() == 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        test.proxy.set_plan(ProxyPlan::every(ProxyFault::Refuse));
    };
    let (result, ()) = tokio::join!(extract, refuse);
    let err = result.unwrap_err();

    assert!(
        matches!(
            err,
            Error::RetriesSpent {
                retries: 2,
                fault: Fault::ConnectionLost { .. } | Fault::Unreachable { .. },
                ..
            }
        ),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .contains("failed after 3 attempts (`source.retries = 2`)"),
        "{err}"
    );
    assert_eq!(test.proxy.bytes_from_server().len() - started, 3);
    no_unfinished_files(&config.workdir);
}
