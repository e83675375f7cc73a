//! The `bptmig-sandbox up` binary: starts both environments where the pipeline expects them.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use bptmig_sandbox::{connect, connection_string, sql, DEFAULT_PASSWORD, DEFAULT_USER};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn up_serves_seeded_prod_and_qa_until_stopped() {
    let (prod_port, qa_port) = (free_port(), free_port());
    let mut child = Command::new(env!("CARGO_BIN_EXE_bptmig-sandbox"))
        .args([
            "up",
            "--processes",
            "20",
            "--prod-port",
            &prod_port.to_string(),
            "--qa-port",
            &qa_port.to_string(),
        ])
        .env_remove("BPTMIG_DEMO_PASSWORD")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut printed = Vec::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        printed.push(line.clone());
        if line.contains("ready") {
            break;
        }
    }
    let out = printed.join("\n");
    assert!(out.contains(&format!("127.0.0.1,{prod_port};")), "{out}");
    assert!(out.contains("password=${BPTMIG_DEMO_PASSWORD}"), "{out}");
    assert!(out.lines().any(|l| l.starts_with("processes")), "{out}");

    for (port, at_least) in [(prod_port, 20), (qa_port, 1)] {
        let mut client = connect(&connection_string(port, DEFAULT_USER, DEFAULT_PASSWORD))
            .await
            .unwrap();
        let n = sql::scalar_i64(
            &mut client,
            "SELECT COUNT(*) FROM OSSYS_BPM_PROCESS WHERE PARENT_PROCESS_ID IS NULL",
        )
        .await
        .unwrap();
        assert!(n >= at_least, "port {port}: {n} root processes");
    }
    child.kill().unwrap();
    child.wait().unwrap();
}
