//! Strategy `bulk` against a real SQL Server: opt-in through `BPTMIG_TEST_MSSQL` (an ADO
//! connection string), because the sandbox server cannot accept TDS bulk copy. The same rows
//! written with `INSERT … VALUES` literals and with bulk copy must read back identical.
//!
//! Run with `BPTMIG_TEST_MSSQL=… cargo test -p bptmig-load -- --ignored`.

use bptmig_load::value::BoundBatch;
use tiberius::{Client, Config, SqlBulkCopyOption};
use tokio::net::TcpStream;
use tokio_util::compat::TokioAsyncWriteCompatExt;

use crate::render::random_batch;

const ENV: &str = "BPTMIG_TEST_MSSQL";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs BPTMIG_TEST_MSSQL"]
async fn bulk_and_insert_store_the_same_rows() {
    let ado = std::env::var(ENV)
        .unwrap_or_else(|_| panic!("{ENV}: the ADO connection string of a real SQL Server"));
    let config = Config::from_ado_string(&ado).unwrap();
    let tcp = TcpStream::connect(config.get_addr()).await.unwrap();
    tcp.set_nodelay(true).unwrap();
    let mut client = Client::connect(config, tcp.compat_write()).await.unwrap();
    let suffix = std::process::id();
    let (a, b) = (
        format!("BPTMIG_IT_INS_{suffix}"),
        format!("BPTMIG_IT_BULK_{suffix}"),
    );
    for t in [&a, &b] {
        client
            .simple_query(format!(
                "CREATE TABLE {t} (ID INT NOT NULL PRIMARY KEY, V NVARCHAR(MAX) NULL, \
                 D DECIMAL(37,8) NULL, T DATETIME NOT NULL, B BIT NULL)"
            ))
            .await
            .unwrap()
            .into_results()
            .await
            .unwrap();
    }
    let batch = random_batch();
    let cols = ["ID", "V", "D", "T", "B"];
    let bound = BoundBatch::new(&batch, &cols).unwrap();
    for start in (0..batch.num_rows()).step_by(50) {
        let mut sql = format!("INSERT INTO {a} (ID, V, D, T, B) VALUES ");
        for r in start..(start + 50).min(batch.num_rows()) {
            if r > start {
                sql.push_str(", ");
            }
            bound.render_row(&mut sql, r).unwrap();
        }
        client
            .simple_query(sql)
            .await
            .unwrap()
            .into_results()
            .await
            .unwrap();
    }
    let mut req = client
        .bulk_insert_with_options(
            &b,
            &cols,
            SqlBulkCopyOption::CheckConstraints | SqlBulkCopyOption::TableLock,
            &[],
        )
        .await
        .unwrap();
    for r in 0..bound.num_rows() {
        req.send(bound.bulk_row(r).unwrap()).await.unwrap();
    }
    req.finalize().await.unwrap();
    let mut out = Vec::new();
    for t in [&a, &b] {
        let sql = format!(
            "SELECT ID, V, CAST(D AS VARCHAR(50)), CONVERT(VARCHAR(33), T, 126), B FROM {t} \
             ORDER BY ID"
        );
        let rows = client
            .simple_query(sql)
            .await
            .unwrap()
            .into_first_result()
            .await
            .unwrap();
        out.push(
            rows.into_iter()
                .map(|r| format!("{:?}", r.into_iter().collect::<Vec<_>>()))
                .collect::<Vec<_>>(),
        );
    }
    for t in [&a, &b] {
        client
            .simple_query(format!("DROP TABLE {t}"))
            .await
            .unwrap()
            .into_results()
            .await
            .unwrap();
    }
    assert_eq!(out[0].len(), batch.num_rows());
    assert_eq!(out[0], out[1]);
}
