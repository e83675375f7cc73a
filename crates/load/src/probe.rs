//! `bptmig check --probe`: the load's own paths tried on the target through session
//! temporary tables (`#…`) shaped like its instance tables (columns, types, nullability and
//! identity read from its catalog). Nothing permanent is created and no right beyond a login
//! is needed; the temporary tables are dropped at the end (and vanish with the session).
//!
//! Every path sends values the way the load does — the same [`BoundBatch`](crate::value::BoundBatch),
//! literals of the insert writer, bulk rows and options of the bulk writer — reads every value
//! back the way the extract and verify read tables, and compares:
//!
//! * [`Probe::ids_explicit`]: explicit IDs under `IDENTITY_INSERT`, −2147483648 and 2147483647
//!   included (`renumber`, `keep`);
//! * [`Probe::ids_generated`]: `INSERT …; SELECT SCOPE_IDENTITY()`, several per round trip,
//!   each reported ID the one its row got (`generated`);
//! * [`Probe::load_insert`], [`Probe::load_bulk`]: every column of rows of each instance
//!   table's shape, through multi-row `INSERT … VALUES` and through TDS bulk copy
//!   (keep-identity, table lock, constraint checks; on a session of its own; the date/time
//!   values below too);
//! * [`Probe::date_times`]: `DATETIME`, `DATETIME2(7)`, `DATETIMEOFFSET(7)`, `TIME(7)` at full
//!   precision, and at a whole second where that fails;
//! * [`Probe::long_texts`]: `NVARCHAR(MAX)` values over 4,000 characters with quotes,
//!   astral-plane characters, a NUL and backslash-newline;
//! * [`Probe::identity_after_explicit`]: whether the identity moves past explicit IDs.

use bptmig_db::SqlClient;
use bptmig_model::pipeline::Endpoint;

mod bulk;
mod explicit;
mod roundtrip;
mod sample;
mod shape;
mod values;

use roundtrip::Found;
pub use roundtrip::Outcome;

/// The prefix of the temporary tables shaped like the target's instance tables (each path
/// renames them).
const SHAPE_PREFIX: &str = "#bptmig_probe_";

/// What each of the load's paths did on the target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Probe {
    pub ids_explicit: Outcome,
    pub ids_generated: Outcome,
    pub load_insert: Outcome,
    pub load_bulk: Outcome,
    pub date_times: Outcome,
    pub long_texts: Outcome,
    pub identity_after_explicit: Outcome,
    /// Whether the identity moved past explicit IDs above it; `None` when that could not be
    /// tried.
    pub identity_follows: Option<bool>,
}

/// Tries every path on `client` (the target's session) and, for bulk copy, on a session of
/// its own opened from `endpoint`. A refusal is an answer ([`Outcome::Fails`]); a
/// transient fault (a lost connection, a timeout) is an error, as nothing was learnt.
pub async fn probe(client: &mut SqlClient, endpoint: &Endpoint) -> crate::Result<Probe> {
    let shapes = shape::Shape::of_target(client, SHAPE_PREFIX).await?;
    let (ids_explicit, load_insert) = explicit::explicit(client, &shapes).await?;
    let ids_generated = explicit::generated(client, &shapes).await?;
    let (identity_after_explicit, identity_follows) =
        explicit::identity_after(client, &shapes).await?;
    let date_times = values::date_times(client).await?.into();
    let long_texts = values::long_texts(client).await?.into();
    // Every path dropped its temporary tables; the bulk copy runs on a session of its own.
    let load_bulk: Found = match bulk::bulk(endpoint, &shapes).await {
        Err(e) if bptmig_db::Transient::fault(&e).is_none() => Err(roundtrip::chain(&e)),
        other => other?,
    };
    let load_bulk = load_bulk.into();
    Ok(Probe {
        ids_explicit,
        ids_generated,
        load_insert,
        load_bulk,
        date_times,
        long_texts,
        identity_after_explicit,
        identity_follows,
    })
}
