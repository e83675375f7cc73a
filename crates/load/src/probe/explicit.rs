//! The ID paths: explicit IDs under `IDENTITY_INSERT` (`renumber`, `keep`; the insert
//! writer's literals), IDs the target generates and `SCOPE_IDENTITY()` reports
//! (`generated`), and where the identity stands after explicit IDs.

use arrow::array::{Int32Array, RecordBatch};
use bptmig_db::SqlClient;

use super::roundtrip::{difference, insert_sql, read_back, rows, run, Found, Outcome};
use super::sample;
use super::shape::{drop_sql, Shape};
use crate::value::BoundBatch;
use crate::Result;

/// The explicit IDs every shape round-trips: both ends of the 32-bit range, where a reseeded
/// target (`-2147483648`) and one near 2^31 place their blocks.
pub const EXPLICIT_IDS: [i32; 4] = [i32::MIN, i32::MIN + 1, -1, i32::MAX];
/// Rows per round trip of the `generated` path.
pub const GENERATED_ROWS: usize = 3;

/// Why explicit IDs could not be tried: the server refuses `SET IDENTITY_INSERT` on a
/// session temporary table (the sandbox server does), in its words.
fn untried(words: &str) -> String {
    format!(
        "the server does not take `SET IDENTITY_INSERT` on a session temporary table \
         (server: {words}), so explicit IDs could not be tried without a permanent table; \
         `target right ALTER (IDENTITY_INSERT)` tried the statement on the real tables"
    )
}

/// Explicit IDs under `IDENTITY_INSERT` in every shape, and every other column of the same
/// rows: (the IDs' outcome, the insert writer's). Where the server refuses `IDENTITY_INSERT`
/// on temporary tables, the rows go in without their IDs and the IDs are untried.
pub async fn explicit(client: &mut SqlClient, shapes: &[Shape]) -> Result<(Outcome, Outcome)> {
    let shapes: Vec<Shape> = shapes
        .iter()
        .map(|s| s.renamed("#bptmig_probe_x"))
        .collect();
    let found = explicit_in(client, &shapes).await;
    for s in &shapes {
        run(client, &drop_sql(&s.temp)).await?.ok();
    }
    let Explicit {
        ids,
        insert,
        refused,
    } = found?;
    let n = shapes.len();
    let insert = insert.map(|()| {
        let how = if refused.is_some() {
            " (without explicit IDs: the target generated them)"
        } else {
            ""
        };
        format!(
            "multi-row `INSERT … VALUES` of the load's literals: {} rows of every column came \
             back exact in {n} table(s) shaped like the target's{how}",
            EXPLICIT_IDS.len()
        )
    });
    let ids = match (ids, refused) {
        (Ok(()), None) => Outcome::Works(format!(
            "explicit IDs {} came back exact under `IDENTITY_INSERT` in {n} table(s) shaped \
             like the target's (renumber and keep)",
            EXPLICIT_IDS.map(|i| i.to_string()).join(", ")
        )),
        (Err(why), _) => Outcome::Fails(why),
        (Ok(()), Some(words)) => Outcome::Untried(untried(&words)),
    };
    Ok((ids, insert.into()))
}

/// What the round trips of [`explicit`] found.
struct Explicit {
    /// Whether the IDs came back exact (`Ok` too when they were not tried).
    ids: Result<(), String>,
    /// Whether every other column came back exact.
    insert: Result<(), String>,
    /// Why explicit IDs were not tried: the server's words refusing `IDENTITY_INSERT` on a
    /// temporary table.
    refused: Option<String>,
}

async fn explicit_in(client: &mut SqlClient, shapes: &[Shape]) -> Result<Explicit> {
    let both = |why: String| Explicit {
        ids: Err(why.clone()),
        insert: Err(why),
        refused: None,
    };
    let Some(first) = shapes.first() else {
        return Ok(both(
            "the target has no keyed instance table to copy".to_owned(),
        ));
    };
    for shape in shapes {
        if let Err(why) = create(client, shape).await? {
            return Ok(both(why));
        }
    }
    let refused = run(client, &format!("SET IDENTITY_INSERT {} ON", first.temp))
        .await?
        .err();
    run(client, &format!("SET IDENTITY_INSERT {} OFF", first.temp))
        .await?
        .ok();
    let mut found = Explicit {
        ids: Ok(()),
        insert: Ok(()),
        refused,
    };
    for shape in shapes {
        match one_shape(client, shape, found.refused.is_none()).await? {
            ShapeFound::Exact => {}
            ShapeFound::Ids(why) => found.ids = Err(why),
            ShapeFound::Insert(why) => found.insert = Err(why),
            ShapeFound::Both(why) => {
                // Without explicit IDs (refused) the IDs stay untried.
                if found.refused.is_none() {
                    found.ids = Err(why.clone());
                }
                found.insert = Err(why);
            }
        }
        if found.ids.is_err() || found.insert.is_err() {
            break;
        }
    }
    Ok(found)
}

/// What one shape's round trip found.
enum ShapeFound {
    Exact,
    /// The IDs came back changed (the other columns did not).
    Ids(String),
    /// Another column came back changed.
    Insert(String),
    /// The rows did not go in, or did not come back.
    Both(String),
}

/// `shape`'s rows inserted (with explicit IDs when `explicit`) and read back.
async fn one_shape(client: &mut SqlClient, shape: &Shape, explicit: bool) -> Result<ShapeFound> {
    let Some(id) = shape.id() else {
        return Ok(ShapeFound::Exact);
    };
    let sent = match sample::batch(&shape.plans, Some(id), &EXPLICIT_IDS) {
        Ok(b) => b,
        Err(why) => return Ok(ShapeFound::Both(why)),
    };
    let columns = shape.column_names(explicit);
    let names: Vec<&str> = columns.iter().map(String::as_str).collect();
    let insert = BoundBatch::new(&sent, &names)
        .map_err(|e| e.to_string())
        .and_then(|bound| insert_sql(&shape.temp, &columns, &bound));
    let insert = match insert {
        Ok(sql) => sql,
        Err(why) => return Ok(ShapeFound::Both(why)),
    };
    let t = &shape.temp;
    let sql = if explicit {
        format!("SET IDENTITY_INSERT {t} ON; {insert}; SET IDENTITY_INSERT {t} OFF")
    } else {
        insert
    };
    if let Err(words) = run(client, &sql).await? {
        if explicit {
            // Never leave it on for the session's later statements.
            run(client, &format!("SET IDENTITY_INSERT {t} OFF"))
                .await?
                .ok();
        }
        return Ok(ShapeFound::Both(format!(
            "the server refused the rows of a table shaped like `{}` ({words})",
            shape.table
        )));
    }
    // Without explicit IDs the rows come back in the order the identity gave them.
    let read = match read_back(client, shape, id, !explicit && !shape.ascending()).await? {
        Ok(read) => read,
        Err(why) => return Ok(ShapeFound::Both(why)),
    };
    if read.num_rows() != sent.num_rows() {
        return Ok(ShapeFound::Both(format!(
            "{} row(s) of `{}` came back, not {}",
            read.num_rows(),
            shape.table,
            sent.num_rows()
        )));
    }
    let others = shape.column_names(false);
    for r in 0..sent.num_rows() {
        if explicit {
            if let Some(why) = difference(shape.table, &[id.to_owned()], (&sent, r), (&read, r)) {
                return Ok(ShapeFound::Ids(why));
            }
        }
        if let Some(why) = difference(shape.table, &others, (&sent, r), (&read, r)) {
            return Ok(ShapeFound::Insert(why));
        }
    }
    Ok(ShapeFound::Exact)
}

/// IDs the target generates, `GENERATED_ROWS` rows per round trip, each learnt from
/// `SCOPE_IDENTITY()` right after its `INSERT`: every reported ID must be the ID of the row
/// that statement inserted.
pub async fn generated(client: &mut SqlClient, shapes: &[Shape]) -> Result<Outcome> {
    let mut tables = 0;
    for shape in shapes {
        let shape = shape.renamed("#bptmig_probe_g");
        let found = generated_in(client, &shape).await;
        run(client, &drop_sql(&shape.temp)).await?.ok();
        if let Some(why) = found? {
            return Ok(Outcome::Fails(why));
        }
        tables += 1;
    }
    Ok(Outcome::Works(format!(
        "{GENERATED_ROWS} rows per round trip, each `SCOPE_IDENTITY()` exactly the ID its row \
         got, in {tables} table(s) shaped like the target's"
    )))
}

/// Why `shape`'s generated IDs are not exact, if they are not.
async fn generated_in(client: &mut SqlClient, shape: &Shape) -> Result<Option<String>> {
    let Some(id) = shape.id() else {
        return Ok(None);
    };
    if let Err(why) = create(client, shape).await? {
        return Ok(Some(why));
    }
    let sent = match sample::batch(&shape.plans, Some(id), &[0; GENERATED_ROWS]) {
        Ok(b) => b,
        Err(why) => return Ok(Some(why)),
    };
    let columns = shape.column_names(false);
    let names: Vec<&str> = columns.iter().map(String::as_str).collect();
    let mut sql = String::new();
    for r in 0..GENERATED_ROWS {
        let one = BoundBatch::new(&sent.slice(r, 1), &names)
            .map_err(|e| e.to_string())
            .and_then(|row| insert_sql(&shape.temp, &columns, &row));
        match one {
            Ok(s) => {
                sql.push_str(&s);
                sql.push_str("; SELECT CAST(SCOPE_IDENTITY() AS INT); ");
            }
            Err(why) => return Ok(Some(why)),
        }
    }
    let reported: Vec<Option<i64>> = match rows(client, &sql).await? {
        Ok(rows) => rows.iter().map(|r| bptmig_db::int_cell(r, 0)).collect(),
        Err(words) => {
            return Ok(Some(format!(
                "the server refused `INSERT …; SELECT SCOPE_IDENTITY()` in a table shaped like \
                 `{}` ({words})",
                shape.table
            )))
        }
    };
    check_generated(client, shape, id, &sent, &columns, &reported).await
}

/// Why the `reported` IDs are not those of the rows `sent`, if they are not.
async fn check_generated(
    client: &mut SqlClient,
    shape: &Shape,
    id: &str,
    sent: &RecordBatch,
    columns: &[String],
    reported: &[Option<i64>],
) -> Result<Option<String>> {
    let table = shape.table;
    let wanted: Vec<i64> = reported.iter().flatten().copied().collect();
    if wanted.len() != GENERATED_ROWS {
        return Ok(Some(format!(
            "`SCOPE_IDENTITY()` reported {reported:?} for {GENERATED_ROWS} rows of `{table}`"
        )));
    }
    let read = match read_back(client, shape, id, false).await? {
        Ok(read) => read,
        Err(why) => return Ok(Some(why)),
    };
    let ids = read
        .column_by_name(id)
        .and_then(|a| a.as_any().downcast_ref::<Int32Array>().cloned());
    let Some(ids) = ids else {
        return Ok(Some(format!("`{table}.{id}` was not read back")));
    };
    for (s, want) in wanted.iter().enumerate() {
        let Some(r) = (0..read.num_rows()).find(|&r| i64::from(ids.value(r)) == *want) else {
            return Ok(Some(format!(
                "`SCOPE_IDENTITY()` reported {want} for row {s} of `{table}`, and no row has \
                 that ID"
            )));
        };
        if let Some(why) = difference(table, columns, (sent, s), (&read, r)) {
            return Ok(Some(format!(
                "the row `SCOPE_IDENTITY()` named for statement {s} is not the row it \
                 inserted: {why}"
            )));
        }
    }
    Ok(None)
}

/// Where the identity stands after explicit IDs above it, in a temporary table with the
/// target's process identity (seed, increment): `Some(true)` when it moves past them (SQL
/// Server), `Some(false)` when the next generated ID is right after the last generated one.
pub async fn identity_after(
    client: &mut SqlClient,
    shapes: &[Shape],
) -> Result<(Outcome, Option<bool>)> {
    const T: &str = "#bptmig_probe_identity";
    let (seed, step) = shapes
        .iter()
        .find_map(|s| s.identity.as_ref())
        .map_or((1, 1), |i| (i.seed, i.increment));
    let found = identity_in(client, T, seed, step).await;
    run(client, &drop_sql(T)).await?.ok();
    found
}

async fn identity_in(
    client: &mut SqlClient,
    t: &str,
    seed: i64,
    step: i64,
) -> Result<(Outcome, Option<bool>)> {
    let next = format!("INSERT INTO {t} (V) VALUES (0); SELECT CAST(SCOPE_IDENTITY() AS BIGINT)");
    let setup = format!("CREATE TABLE {t} (ID INT IDENTITY({seed}, {step}) NOT NULL, V INT NULL)");
    if let Err(words) = run(client, &setup).await? {
        let why = format!("the server refused the temporary table ({words})");
        return Ok((Outcome::Fails(why), None));
    }
    let first = match rows(client, &next).await? {
        Ok(r) => r.first().and_then(|r| bptmig_db::int_cell(r, 0)),
        Err(words) => return Ok((Outcome::Fails(format!("`{next}` refused ({words})")), None)),
    };
    let Some(first) = first else {
        let why = "`SCOPE_IDENTITY()` reported nothing".to_owned();
        return Ok((Outcome::Fails(why), None));
    };
    let (a, b) = (first + 10 * step, first + 11 * step);
    if let Err(words) = run(client, &format!("SET IDENTITY_INSERT {t} ON")).await? {
        return Ok((Outcome::Untried(untried(&words)), None));
    }
    let explicit = format!(
        "INSERT INTO {t} (ID, V) VALUES ({a}, 1), ({b}, 2); SET IDENTITY_INSERT {t} OFF; {next}"
    );
    let after = match rows(client, &explicit).await? {
        Ok(r) => r.first().and_then(|r| bptmig_db::int_cell(r, 0)),
        Err(words) => {
            run(client, &format!("SET IDENTITY_INSERT {t} OFF"))
                .await?
                .ok();
            let why = format!("the server refused explicit IDs ({words})");
            return Ok((Outcome::Fails(why), None));
        }
    };
    let seen = format!("after explicit IDs {a}, {b} above the identity ({first})");
    Ok(match after {
        Some(n) if n == b + step => (
            Outcome::Works(format!(
                "moves past them: {seen} the next generated ID is {n}"
            )),
            Some(true),
        ),
        Some(n) if n == first + step => (
            Outcome::Works(format!(
                "does not move past them: {seen} the next generated ID is {n}; after a \
                 renumber load the target's own next rows would collide with the moved ones, \
                 so the load moves the identity with `DBCC CHECKIDENT … RESEED` (see `target \
                 right DBCC CHECKIDENT`)"
            )),
            Some(false),
        ),
        other => (
            Outcome::Fails(format!("{seen} the next generated ID is {other:?}")),
            None,
        ),
    })
}

/// Creates `shape`'s temporary table; `Err` why the server refused it.
async fn create(client: &mut SqlClient, shape: &Shape) -> Result<Found> {
    Ok(run(client, &shape.create_sql())
        .await?
        .map(|()| String::new())
        .map_err(|words| {
            format!(
                "the server refused a temporary table shaped like `{}` ({words})",
                shape.table
            )
        }))
}
