//! An environment's published rows, from which its history is generated.

use std::collections::BTreeMap;

use bptmig_model::catalog as c;

use super::applications::AWKWARD;
use super::history::History;
use super::publish::publish;
use super::random::Rng;
use super::shapes::{Shapes, JOB_OFFER_TABLE};
use super::sink::{MemorySink, Sink};
use super::{Dataset, EnvKind, EnvSpec, TableRows, CANDIDATE_TABLE};
use crate::sql::{datetime, Lit};

/// Numeric IDs of the published rows of one environment, by name.
#[derive(Default)]
pub(super) struct PublishedIds {
    pub(super) espace: BTreeMap<&'static str, i64>,
    pub(super) tenant: BTreeMap<&'static str, i64>,
    pub(super) user: BTreeMap<&'static str, i64>,
    pub(super) group: BTreeMap<(&'static str, &'static str), i64>,
    pub(super) process_def: BTreeMap<&'static str, i64>,
    pub(super) input_def: BTreeMap<(&'static str, &'static str), i64>,
    pub(super) output_def: BTreeMap<(&'static str, &'static str), i64>,
    pub(super) activity_def: BTreeMap<(&'static str, &'static str), i64>,
    pub(super) activity_output_def: BTreeMap<(&'static str, &'static str, &'static str), i64>,
    pub(super) candidate_entity: i64,
}

/// Generates one environment, history included, in memory.
pub fn generate(kind: EnvKind, spec: &EnvSpec) -> Dataset {
    let mut env = generate_published(kind, spec);
    let mut sink = MemorySink::default();
    let shapes = env.history(spec, true, &mut sink);
    let mut tables = std::mem::take(&mut env.tables);
    sink.into_tables(&mut tables);
    if spec.pending_event {
        tables.push(env.pending_event());
    }
    Dataset {
        kind,
        tables,
        shapes,
    }
}

/// An environment whose applications are published and whose history is still to come.
pub struct Published {
    kind: EnvKind,
    rng: Rng,
    ids: PublishedIds,
    candidates: Vec<i64>,
    /// Static, identity, definition and application rows, in insertion order.
    pub tables: Vec<TableRows>,
}

/// Publishes the applications of `kind`: static rows, eSpaces, tenants, users, groups,
/// entities, definitions and Candidate rows.
pub fn generate_published(kind: EnvKind, spec: &EnvSpec) -> Published {
    let mut rng = Rng(spec.seed
        ^ if kind == EnvKind::Prod {
            0x5052_4f44
        } else {
            0x5141
        });
    let mut tables = statics();
    let ids = publish(kind, spec.platform_shapes, &mut rng, &mut tables);
    let candidates = candidates(kind, spec, &mut rng, &mut tables);
    if spec.platform_shapes && kind == EnvKind::Prod {
        tables.push(job_offers(&ids, &candidates));
    }
    Published {
        kind,
        rng,
        ids,
        candidates,
        tables,
    }
}

impl Published {
    /// Generates the history (`spec.processes` roots in prod, `spec.qa_processes` in qa) into
    /// `sink`, streaming: nothing but the published rows is kept. With
    /// `spec.platform_shapes`, prod gets the shapes too, its broken trees only when
    /// `broken_trees` (an extract never hands them on); returns what was generated of them.
    pub fn history(&mut self, spec: &EnvSpec, broken_trees: bool, sink: &mut dyn Sink) -> Shapes {
        let roots = match self.kind {
            EnvKind::Prod => spec.processes,
            EnvKind::Qa => spec.qa_processes,
        };
        let candidates = std::mem::take(&mut self.candidates);
        let shapes = History::new(
            (self.kind, spec.platform_shapes, broken_trees, spec.reseeded),
            &self.ids,
            candidates.clone(),
            &mut self.rng,
            sink,
        )
        .generate(roots);
        self.candidates = candidates;
        shapes
    }

    fn pending_event(&self) -> TableRows {
        let mut q = TableRows::new(
            c::EVENT_QUEUE,
            &[
                c::ESPACE_ID,
                c::TENANT_ID,
                c::DATA_ID,
                c::ENQUEUE_TIME,
                c::ERROR_COUNT,
                c::NEXT_RUN,
            ],
            false,
        );
        let now = datetime(2019, 12, 1, 8, 0, 0);
        q.push(vec![
            Lit::Int(self.ids.espace["Recruitment"]),
            Lit::Int(self.ids.tenant["Users"]),
            Lit::text("1"),
            Lit::DateTime(now),
            Lit::Int(0),
            Lit::DateTime(now),
        ]);
        q
    }
}

/// Platform-seeded rows, identical in every environment.
const PROCESS_STATUSES: &[(i64, &str, bool)] = &[
    (1, "Active", false),
    (2, "Closed", true),
    (3, "Suspended", false),
    (4, "Terminated", true),
];
const ACTIVITY_STATUSES: &[(i64, &str, bool, bool)] = &[
    (1, "Scheduled", false, false),
    (2, "Running", false, false),
    (3, "Waiting", false, false),
    (4, "Error", false, false),
    (5, "Closed", true, false),
    (6, "Terminated", true, false),
    (7, "Suspended", false, false),
    (8, "Listening", false, false),
    (9, "Ready", false, true),
];
const ACTIVITY_KINDS: &[(i64, &str)] = &[
    (1, "Start"),
    (2, "End"),
    (3, "Human Activity"),
    (4, "Automatic Activity"),
    (5, "Wait"),
    (6, "Decision"),
    (7, "Execute Process"),
    (8, "Conditional Start"),
    (9, "Send Email"),
];

fn statics() -> Vec<TableRows> {
    let mut ps = TableRows::new(c::PROCESS_STATUS, &[c::ID, c::NAME, c::IS_TERMINAL], false);
    for (id, name, terminal) in PROCESS_STATUSES {
        ps.push(vec![Lit::Int(*id), Lit::text(*name), Lit::Bool(*terminal)]);
    }
    let mut acs = TableRows::new(
        c::ACTIVITY_STATUS,
        &[c::ID, c::NAME, c::IS_TERMINAL, "APPEARS_IN_INBOX"],
        false,
    );
    for (id, name, terminal, inbox) in ACTIVITY_STATUSES {
        acs.push(vec![
            Lit::Int(*id),
            Lit::text(*name),
            Lit::Bool(*terminal),
            Lit::Bool(*inbox),
        ]);
    }
    let mut kinds = TableRows::new(c::ACTIVITY_KIND, &[c::ID, c::NAME], false);
    for (id, name) in ACTIVITY_KINDS {
        kinds.push(vec![Lit::Int(*id), Lit::text(*name)]);
    }
    vec![ps, acs, kinds]
}

pub(super) const EMPTY_DATE: Lit = Lit::DateTime(0);

/// Candidate rows of the application table; returns their IDs.
fn candidates(
    kind: EnvKind,
    spec: &EnvSpec,
    rng: &mut Rng,
    tables: &mut Vec<TableRows>,
) -> Vec<i64> {
    let n = match kind {
        EnvKind::Prod => (spec.processes / 2).max(10),
        EnvKind::Qa => 8,
    };
    let mut rows = TableRows::new(
        CANDIDATE_TABLE,
        &[c::ID, c::TENANT_ID, c::NAME, "EMAIL", "STAGE"],
        true,
    );
    let mut ids = Vec::with_capacity(n);
    for i in 0..n {
        let id = i as i64 + 1;
        ids.push(id);
        rows.push(vec![
            Lit::Int(id),
            Lit::Null,
            Lit::text(format!("{} #{id}", rng.pick(AWKWARD))),
            Lit::text(format!("candidate{id}@example.com")),
            Lit::text("Applied"),
        ]);
    }
    tables.push(rows);
    ids
}

/// One job offer per candidate (the offer's ID is the candidate's), in the users' tenant,
/// each with a recruiter: prod's rows of the platform-shapes entity.
fn job_offers(ids: &PublishedIds, candidates: &[i64]) -> TableRows {
    let mut rows = TableRows::new(
        JOB_OFFER_TABLE,
        &[c::ID, c::TENANT_ID, "TITLE", "CANDIDATE_ID", "RECRUITER_ID"],
        true,
    );
    let recruiters = ["maria.silva", "john.doe", "prod.only"];
    for (i, id) in candidates.iter().enumerate() {
        rows.push(vec![
            Lit::Int(*id),
            Lit::Int(ids.tenant["Users"]),
            Lit::Text(format!("Offer for candidate #{id}")),
            Lit::Int(*id),
            Lit::Int(ids.user[recruiters[i % recruiters.len()]]),
        ]);
    }
    rows
}
