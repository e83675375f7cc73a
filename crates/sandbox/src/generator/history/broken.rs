//! Broken trees in prod, one of each kind, as an interrupted purge or a bug leaves them:
//! every process of them is an `Onboarding` instance with its own rows consistent.

use super::{Fixed, History, Links, Spawn};
use crate::generator::applications::{ProcDef, PROCESS_DEFS};
use crate::generator::columns::PROCESS_CLOSED;
use crate::generator::shapes::{BrokenKind, BrokenTree, NOWHERE_ID};
use crate::sql::datetime;

/// The definition broken trees are made of: no sub-processes of its own.
const BROKEN_DEFINITION: &str = "Onboarding";

impl History<'_> {
    /// One broken tree of each [`BrokenKind`].
    pub(super) fn broken_trees(&mut self) {
        let Some(def) = PROCESS_DEFS.iter().find(|d| d.name == BROKEN_DEFINITION) else {
            return;
        };
        self.seen.generating_broken = true;
        self.missing_parent(def);
        self.missing_top(def);
        self.top_disagrees(def);
        self.cycle(def);
        self.seen.generating_broken = false;
    }

    /// A closed `Onboarding` process at insertion `level`, with `fixed` links.
    fn broken_process(&mut self, def: &'static ProcDef, level: usize, fixed: Fixed) -> i64 {
        let n = self.seen.processes.len() as i64;
        self.spawn(&Spawn {
            def,
            root: def.name,
            level,
            tenant: self.p.tenant["Users"],
            top: None,
            parent: None,
            status: PROCESS_CLOSED,
            created: datetime(2019, 5, 6, 9, 0, 0) + n * 600,
            candidate: self.candidates[0],
            fixed,
        })
    }

    fn links(parent: Option<i64>, parent_activity: Option<i64>, top: Option<i64>) -> Fixed {
        Fixed {
            links: Some(Links {
                parent,
                parent_activity,
                top,
            }),
            ..Fixed::default()
        }
    }

    /// The first activity of process `process`.
    fn first_activity(&self, process: i64) -> Option<i64> {
        let mut a = self.seen.activities.iter();
        a.find(|a| a.1 == process).map(|a| a.0)
    }

    fn missing_parent(&mut self, def: &'static ProcDef) {
        let root = self.broken_process(def, 0, Fixed::default());
        let missing = NOWHERE_ID + 1;
        let child = self.broken_process(def, 0, Self::links(Some(missing), None, Some(root)));
        self.record.broken.push(BrokenTree {
            kind: BrokenKind::MissingParent,
            processes: vec![child, root],
            missing: Some(missing),
            description: "a sub-process whose parent process does not exist; its top does",
        });
    }

    fn missing_top(&mut self, def: &'static ProcDef) {
        let missing = NOWHERE_ID + 2;
        let orphan = self.broken_process(def, 0, Self::links(None, None, Some(missing)));
        self.record.broken.push(BrokenTree {
            kind: BrokenKind::MissingTop,
            processes: vec![orphan],
            missing: Some(missing),
            description: "a process without a parent whose top process does not exist",
        });
    }

    fn top_disagrees(&mut self, def: &'static ProcDef) {
        let root = self.broken_process(def, 0, Fixed::default());
        let other = self.broken_process(def, 0, Fixed::default());
        let activity = self.first_activity(root);
        let child = self.broken_process(def, 1, Self::links(Some(root), activity, Some(other)));
        self.record.broken.push(BrokenTree {
            kind: BrokenKind::TopDisagrees,
            processes: vec![child, root, other],
            missing: None,
            description: "a sub-process whose top process is another root, not its parent's top",
        });
    }

    fn cycle(&mut self, def: &'static ProcDef) {
        let ids: Vec<i64> = (0..3).map(|_| self.process_ids.take(self.rng)).collect();
        let (a, b, c) = (ids[0], ids[1], ids[2]);
        let fixed = |id, parent, activity, top| Fixed {
            id: Some(id),
            ..Self::links(Some(parent), activity, top)
        };
        self.broken_process(def, 0, fixed(a, c, None, None));
        let a_act = self.first_activity(a);
        self.broken_process(def, 1, fixed(b, a, a_act, Some(a)));
        let b_act = self.first_activity(b);
        self.broken_process(def, 2, fixed(c, b, b_act, Some(a)));
        self.record.broken.push(BrokenTree {
            kind: BrokenKind::Cycle,
            processes: vec![a, b, c],
            missing: None,
            description: "three processes each the parent of the next; the first has \
                          TOP_PROCESS_ID = ID but a parent",
        });
    }
}
