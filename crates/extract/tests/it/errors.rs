use bptmig_db::Error as DbError;
use bptmig_extract::Error;
use bptmig_model::catalog as c;
use bptmig_sandbox::{connect, create_schema, sql, EnvSpec, SandboxServer};
use bptmig_workdir::Error as WorkdirError;
use bptmig_workdir::{Manifest, WorkDir};

use crate::{envs, pipeline, processes, setup, PW_VAR};

fn nothing_listed(workdir: &std::path::Path) {
    for t in [c::PROCESS, c::ACTIVITY] {
        assert!(
            Manifest::read(&workdir.join("extract").join(t))
                .unwrap()
                .is_none(),
            "{t} listed"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pending_events_in_the_source_refuse_the_extract() {
    let test = setup(
        &EnvSpec {
            pending_event: true,
            ..processes(10)
        },
        "",
    )
    .await;
    let config = &test.config;
    let err = crate::extract(config).await.unwrap_err();
    assert!(
        matches!(err, Error::Db(DbError::PendingEvents { rows: 1, .. })),
        "{err}"
    );
    let msg = err.to_string();
    assert!(
        msg.contains("OSSYS_BPM_EVENT_QUEUE")
            && msg.contains("1 unprocessed")
            && msg.contains("drain"),
        "{msg}"
    );
    nothing_listed(&config.workdir);
    assert!(!config.workdir.join("run.json").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_first_connection_leaves_the_work_directory_free_for_the_right_server() {
    let (prod, qa) = envs(&processes(5)).await;
    let dir = tempfile::tempdir().unwrap();
    let free_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mistyped = bptmig_sandbox::connection_string(free_port, "sa", &format!("${{{PW_VAR}}}"));
    let prod_conn = prod.server.connection_template(PW_VAR);
    let qa_conn = qa.server.connection_template(PW_VAR);

    // A mistyped source port, then a mistyped target port: each fails before binding.
    for (source, target) in [(&mistyped, &qa_conn), (&prod_conn, &mistyped)] {
        let config = pipeline(dir.path(), source, target, "");
        let err = crate::extract(&config).await.unwrap_err();
        assert!(
            matches!(err, Error::Db(DbError::Unreachable { .. })),
            "{err}"
        );
        assert!(!config.workdir.join("run.json").exists(), "{err}");
    }

    // The corrected pipeline, in the same work directory, runs.
    let config = pipeline(dir.path(), &prod_conn, &qa_conn, "");
    let summary = crate::extract(&config).await.unwrap();
    assert!(summary.roots > 0);
    assert!(config.workdir.join("run.json").is_file());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_process_on_the_work_directory_is_refused() {
    let test = setup(&processes(10), "").await;
    let config = &test.config;
    let wd = WorkDir::new(&config.workdir);
    wd.create().unwrap();
    let _held = wd.lock("extract").unwrap();
    let err = crate::extract(config).await.unwrap_err();
    assert!(
        matches!(err, Error::Workdir(WorkdirError::Locked { .. })),
        "{err}"
    );
    assert!(err.to_string().contains("in use by process"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_host_names_host_port_and_timeout() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = tempfile::tempdir().unwrap();
    let conn = bptmig_sandbox::connection_string(port, "sa", &format!("${{{PW_VAR}}}"));
    let config = pipeline(dir.path(), &conn, &conn, "");
    let err = crate::extract(&config).await.unwrap_err().to_string();
    assert!(
        err.contains(&format!("127.0.0.1:{port}")) && err.contains("3 s") && err.contains("source"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_credentials_are_named_without_the_password() {
    let (prod, qa) = envs(&EnvSpec {
        processes: 5,
        ..EnvSpec::default()
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "workdir = \"work\"\n[source]\nconnection = \"{}\"\n[target]\nconnection = \"{}\"\n",
        prod.server.connection_template("WRONG_PW"),
        qa.server.connection_template("WRONG_PW")
    );
    let path = dir.path().join("p.toml");
    std::fs::write(&path, &text).unwrap();
    let config =
        bptmig_model::PipelineConfig::parse(&text, &path, &|_| Some("not-the-password".into()))
            .unwrap();
    let err = crate::extract(&config).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::Db(DbError::LoginFailed { .. } | DbError::Handshake { .. })
        ),
        "{err:?}"
    );
    let msg = err.to_string();
    assert!(msg.contains("source") && msg.contains("password"), "{msg}");
    assert!(!msg.contains("not-the-password"), "{msg}");
}

/// The error of an extract from `source` to a seeded qa.
async fn extract_from(source: &SandboxServer) -> Error {
    let (_, qa) = envs(&processes(5)).await;
    let dir = tempfile::tempdir().unwrap();
    let config = pipeline(
        dir.path(),
        &source.connection_template(PW_VAR),
        &qa.server.connection_template(PW_VAR),
        "",
    );
    crate::extract(&config).await.unwrap_err()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_that_is_not_outsystems_is_refused() {
    let empty = SandboxServer::start().unwrap();
    let err = extract_from(&empty).await;
    assert!(
        matches!(err, Error::Db(DbError::NotPlatform { .. })),
        "{err}"
    );
    assert!(err.to_string().contains("OSSYS_BPM_PROCESS"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_column_names_table_and_column() {
    // A platform whose OSSYS_BPM_ACTIVITY_OUTPUT lacks SS_KEY (as an older version might).
    let server = SandboxServer::start().unwrap();
    let mut client = connect(&server.connection_string()).await.unwrap();
    create_schema(&mut client).await.unwrap();
    sql::execute(
        &mut client,
        "ALTER TABLE OSSYS_BPM_ACTIVITY_OUTPUT DROP COLUMN SS_KEY",
    )
    .await
    .unwrap();
    let err = extract_from(&server).await;
    assert!(
        matches!(err, Error::Db(DbError::MissingColumn { .. })),
        "{err}"
    );
    let msg = err.to_string();
    assert!(
        msg.contains("OSSYS_BPM_ACTIVITY_OUTPUT") && msg.contains("SS_KEY"),
        "{msg}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unwritable_work_directory_lists_nothing() {
    let test = setup(&processes(5), "").await;
    let config = &test.config;
    // The extract directory is a file: every write under it fails, like a full disk would.
    std::fs::create_dir_all(&config.workdir).unwrap();
    std::fs::write(config.workdir.join("extract"), b"not a directory").unwrap();
    let err = crate::extract(config).await.unwrap_err();
    assert!(
        matches!(err, Error::Workdir(WorkdirError::Io { .. })),
        "{err}"
    );
    assert!(err.to_string().contains("extract"), "{err}");
}
