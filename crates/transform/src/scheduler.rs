//! Will the moved processes run in the target? (issue 15 §4)
//!
//! The platform's scheduler runs only activities of active, unlocked definitions in active,
//! unlocked eSpaces of active tenants, and runs an open activity as soon as its `NEXT_RUN`
//! is in the past (`IS_RUNNING_SINCE` NULL or 1900-01-01, `NEXT_RUN <= now`, the activity's
//! status not terminal, its process not closed or terminated). From the two snapshots
//! ([`Facts`]) and the rows that move, [`evaluate`] finds:
//!
//! * `never_run`: open moved processes (status not terminal: a closed or terminated one
//!   never runs anywhere) whose *target* definition is inactive (`definition_inactive`) or
//!   locked (`definition_locked`), whose definition's target eSpace is inactive
//!   (`espace_inactive`) or locked (`espace_locked`), or whose target tenant is inactive
//!   (`tenant_inactive`). A process counts under every reason that applies to it.
//! * `past_next_run` (`next_run_past`): open moved activities of open processes whose
//!   `NEXT_RUN` (as moved: the transform does not rewrite it) is at or before now ([`Now`]:
//!   the *target server's* time, since its scheduler compares `NEXT_RUN` with its own
//!   `GETDATE()`: for the transform its clock when the extract took the target snapshot,
//!   kept in `run.json`; for `check` the live clock; this machine's UTC clock for a run
//!   without one), less those
//!   that never run (their process is in `never_run`, or their target activity definition is
//!   inactive); with how many are automatic activities (kind named `…Automatic…`), which may
//!   call the target environment's integrations.
//!
//! Flags a target's platform version lacks (`OSSYS_ESPACE.IS_LOCKED`, `OSSYS_TENANT.IS_ACTIVE`
//! …) are not looked for: [`Facts::unchecked`] names them, the transform notes them.
//!
//! The transform computes the findings over the extract (reading only the
//! columns it needs); `bptmig check` over the source rows of the selected trees.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use crate::report::{SchedulerFindings, SchedulerGroup, SCHEDULER_SAMPLES};

mod facts;
mod read;

pub(crate) use read::findings;

/// A moved process, as the source holds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProcessRow {
    pub id: i64,
    /// `PROCESS_DEF_ID` (source).
    pub definition: Option<i64>,
    /// `TENANT_ID` (source).
    pub tenant: Option<i64>,
    pub status: Option<i64>,
}

/// A moved activity, as the source holds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ActivityRow {
    pub id: i64,
    pub process: i64,
    /// `ACTIVITY_DEF_ID` (source).
    pub definition: Option<i64>,
    pub status: Option<i64>,
    /// `NEXT_RUN` in milliseconds since 1970-01-01 (the server's local time, as stored).
    pub next_run: Option<i64>,
}

/// Where the source's definitions and tenants land in the target.
pub trait TargetIds {
    fn process_definition(&self, source: i64) -> Option<i64>;
    fn activity_definition(&self, source: i64) -> Option<i64>;
    fn tenant(&self, source: i64) -> Option<i64>;
}

/// Why a moved process will never run in the target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Reason {
    DefinitionInactive,
    DefinitionLocked,
    EspaceInactive,
    EspaceLocked,
    TenantInactive,
}

impl Reason {
    /// The stable code `report.json` and `check` use.
    pub fn code(self) -> &'static str {
        match self {
            Self::DefinitionInactive => "definition_inactive",
            Self::DefinitionLocked => "definition_locked",
            Self::EspaceInactive => "espace_inactive",
            Self::EspaceLocked => "espace_locked",
            Self::TenantInactive => "tenant_inactive",
        }
    }
}

/// The reason code of [`SchedulerFindings::past_next_run`].
pub const NEXT_RUN_PAST: &str = "next_run_past";

/// `IS_ACTIVE` and `IS_LOCKED` of a target row; `None` where the target lacks the column.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Flags {
    pub active: Option<bool>,
    pub locked: Option<bool>,
}

/// What the findings need of both snapshots: the target's flags by target ID, the source's
/// terminal statuses and automatic activity definitions.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    /// Target process definitions: flags and eSpace.
    definitions: HashMap<i64, (Flags, Option<i64>)>,
    /// Target activity definitions: `IS_ACTIVE`.
    activity_definitions: HashMap<i64, Option<bool>>,
    /// Target eSpaces.
    espaces: HashMap<i64, Flags>,
    /// Target tenants: `IS_ACTIVE`.
    tenants: HashMap<i64, Option<bool>>,
    /// Source process and activity statuses that are terminal (closed-like).
    process_terminal: HashSet<i64>,
    activity_terminal: HashSet<i64>,
    /// Source activity definitions of an automatic kind.
    automatic: HashSet<i64>,
    /// `TABLE.COLUMN` of every flag the target (or the source's status tables) lacks, so
    /// not looked for.
    pub unchecked: Vec<String>,
}

impl Facts {
    /// Whether a process of `status` may still run (its status is not terminal).
    pub fn process_open(&self, status: Option<i64>) -> bool {
        status.is_none_or(|s| !self.process_terminal.contains(&s))
    }

    /// Whether an activity of `status` is open (its status is not terminal).
    pub fn activity_open(&self, status: Option<i64>) -> bool {
        status.is_none_or(|s| !self.activity_terminal.contains(&s))
    }

    /// Whether `a` is open and due at `now` (milliseconds, as [`ActivityRow::next_run`]).
    pub fn activity_due(&self, a: &ActivityRow, now: i64) -> bool {
        self.activity_open(a.status) && a.next_run.is_some_and(|n| n <= now)
    }

    /// Why the open process `p` will never run in the target (empty: nothing known stops it).
    pub fn never_run(&self, ids: &dyn TargetIds, p: &ProcessRow) -> Vec<Reason> {
        let mut out = Vec::new();
        let definition = p
            .definition
            .and_then(|d| ids.process_definition(d))
            .and_then(|d| self.definitions.get(&d));
        if let Some((flags, espace)) = definition {
            flagged(
                *flags,
                [Reason::DefinitionInactive, Reason::DefinitionLocked],
                &mut out,
            );
            if let Some(flags) = espace.and_then(|e| self.espaces.get(&e)) {
                flagged(
                    *flags,
                    [Reason::EspaceInactive, Reason::EspaceLocked],
                    &mut out,
                );
            }
        }
        let tenant = p.tenant.and_then(|t| ids.tenant(t));
        if tenant.and_then(|t| self.tenants.get(&t).copied().flatten()) == Some(false) {
            out.push(Reason::TenantInactive);
        }
        out
    }

    /// Whether `a`'s target activity definition is inactive.
    fn activity_definition_inactive(&self, ids: &dyn TargetIds, a: &ActivityRow) -> bool {
        a.definition
            .and_then(|d| ids.activity_definition(d))
            .and_then(|d| self.activity_definitions.get(&d).copied().flatten())
            == Some(false)
    }
}

/// Adds `[inactive, locked]` to `out` as `flags` say.
fn flagged(flags: Flags, [inactive, locked]: [Reason; 2], out: &mut Vec<Reason>) {
    if flags.active == Some(false) {
        out.push(inactive);
    }
    if flags.locked == Some(true) {
        out.push(locked);
    }
}

/// The findings over the moved `processes` and `activities` at `now` (milliseconds since
/// 1970-01-01, compared with `NEXT_RUN` as stored).
pub fn evaluate(
    facts: &Facts,
    ids: &dyn TargetIds,
    processes: &[ProcessRow],
    activities: &[ActivityRow],
    now: i64,
) -> SchedulerFindings {
    let mut by_reason: BTreeMap<Reason, BTreeSet<i64>> = BTreeMap::new();
    let mut open: HashMap<i64, bool> = HashMap::new();
    for p in processes.iter().filter(|p| facts.process_open(p.status)) {
        let reasons = facts.never_run(ids, p);
        open.insert(p.id, reasons.is_empty());
        for r in reasons {
            by_reason.entry(r).or_default().insert(p.id);
        }
    }
    let mut due = BTreeSet::new();
    let mut automatic = 0;
    for a in activities {
        let runs = open.get(&a.process).copied().unwrap_or(false);
        let at_once =
            runs && facts.activity_due(a, now) && !facts.activity_definition_inactive(ids, a);
        // An activity read twice counts once.
        if at_once && due.insert(a.id) && a.definition.is_some_and(|d| facts.automatic.contains(&d))
        {
            automatic += 1;
        }
    }
    SchedulerFindings {
        never_run: by_reason
            .into_iter()
            .map(|(r, ids)| group(r.code(), &ids, None))
            .collect(),
        past_next_run: (!due.is_empty()).then(|| group(NEXT_RUN_PAST, &due, Some(automatic))),
        now: None,
    }
}

fn group(reason: &str, ids: &BTreeSet<i64>, automatic: Option<u64>) -> SchedulerGroup {
    SchedulerGroup {
        reason: reason.to_owned(),
        count: ids.len() as u64,
        automatic,
        sample_ids: ids.iter().take(SCHEDULER_SAMPLES).copied().collect(),
    }
}

/// The current time as [`ActivityRow::next_run`] counts it: milliseconds since 1970-01-01 by
/// this machine's clock (UTC).
pub fn now_ms() -> i64 {
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(since.as_millis()).unwrap_or(i64::MAX)
}

/// The moment `NEXT_RUN` is compared with, as [`ActivityRow::next_run`] counts it, and what
/// it was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Now {
    pub ms: i64,
    /// From the target server's clock (its `GETDATE()`, local time as the platform writes
    /// `NEXT_RUN`), not this machine's UTC clock.
    pub target_clock: bool,
}

impl Now {
    /// The target server's time when the extract took its snapshot (`clock`): the same for
    /// every transform of a work directory, and in the zone its scheduler compares `NEXT_RUN`
    /// in. Without a clock (or one that cannot be read), this machine's UTC clock now
    /// (`now_utc_ms`).
    pub fn of_target(clock: Option<&bptmig_workdir::ServerClock>, now_utc_ms: i64) -> Self {
        match clock.and_then(|c| parse_datetime_ms(&c.server_now)) {
            Some(ms) => Self {
                ms,
                target_clock: true,
            },
            None => Self {
                ms: now_utc_ms,
                target_clock: false,
            },
        }
    }

    /// The live target's time now: its clock read `clock` at `read_at_ms` by this machine's
    /// UTC clock, so now it reads that plus the time passed since (`now_utc_ms`).
    pub fn live(clock: Option<&bptmig_workdir::ServerClock>, now_utc_ms: i64) -> Self {
        let mut now = Self::of_target(clock, now_utc_ms);
        if let (true, Some(c)) = (now.target_clock, clock) {
            now.ms += (now_utc_ms - c.read_at_ms).max(0);
        }
        now
    }

    /// `2026-12-01T17:30:00.000 (the target server's clock at the extract)`.
    pub fn describe(&self) -> String {
        let text = bptmig_workdir::iso::format_iso_datetime_ms(self.ms);
        if self.target_clock {
            format!("{text} (the target server's clock at the extract)")
        } else {
            format!("{text} (this machine's UTC clock)")
        }
    }
}

/// `YYYY-MM-DDTHH:MM:SS[.fff]` (as `CONVERT(VARCHAR(33), …, 126)` writes it) in milliseconds
/// since 1970-01-01; `None` when it is not such a text.
pub fn parse_datetime_ms(text: &str) -> Option<i64> {
    bptmig_workdir::iso::parse_iso_datetime_ns(text.trim())
        .ok()
        .map(|ns| ns.div_euclid(1_000_000))
}

#[cfg(test)]
mod tests;
