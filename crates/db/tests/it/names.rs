//! Tables spelled in mixed case, as the platform creates them, found from the model's
//! upper-case names; statements built with the catalog's spelling.

use bptmig_db::{self as db, Names, Side, SqlClient};
use bptmig_sandbox::{sql, SandboxServer};

async fn server_with(tables: &[&str]) -> (SandboxServer, SqlClient) {
    let server = SandboxServer::start().unwrap();
    let mut client = sql::connect(&server.connection_string()).await.unwrap();
    for t in tables {
        sql::execute(
            &mut client,
            &format!("CREATE TABLE [{t}] (ID INT NOT NULL PRIMARY KEY, NAME NVARCHAR(50) NULL)"),
        )
        .await
        .unwrap();
    }
    (server, client)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mixed_case_tables_are_found_from_upper_case_names() {
    let (_server, mut client) = server_with(&["ossys_Espace", "OSUSR_3ar_Candidate"]).await;
    let columns = db::table_columns(&mut client, Side::Source, "OSSYS_ESPACE")
        .await
        .unwrap();
    let names: Vec<&str> = columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["ID", "NAME"]);
    assert!(db::find_column(&columns, "name").is_some());
    assert!(
        db::table_columns(&mut client, Side::Source, "osusr_3AR_CANDIDATE")
            .await
            .unwrap()
            .iter()
            .any(|c| c.name == "ID")
    );
    assert!(db::table_columns(&mut client, Side::Source, "OSSYS_USER")
        .await
        .unwrap()
        .is_empty());

    let spelled = Names::read(&mut client, Side::Source).await.unwrap();
    assert_eq!(spelled.spelled("OSSYS_ESPACE").unwrap(), "ossys_Espace");
    assert_eq!(
        spelled.quoted("OSUSR_3AR_CANDIDATE").unwrap(),
        "[OSUSR_3ar_Candidate]"
    );
    assert!(spelled.find("OSSYS_USER").unwrap().is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counts_run_on_the_spelled_name() {
    let (_server, mut client) = server_with(&["ossys_BPM_Process"]).await;
    sql::execute(
        &mut client,
        "INSERT INTO [ossys_BPM_Process] (ID, NAME) VALUES (7, N'a'), (9, N'b')",
    )
    .await
    .unwrap();
    let names = Names::read(&mut client, Side::Target).await.unwrap();
    let table = names.quoted("OSSYS_BPM_PROCESS").unwrap();
    assert_eq!(
        db::table_stats(&mut client, Side::Target, &table)
            .await
            .unwrap(),
        (2, Some(9))
    );
}
