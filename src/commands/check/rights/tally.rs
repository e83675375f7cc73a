//! The answers of one right's trials, and its line.

use bptmig_db::permissions::{has_object_permission, my_object_permissions, trial, Answer, Trial};
use bptmig_db::{self as db, Permission, Side, SqlClient};

use super::super::line::{line, list, Line, Verdict};
use super::Advice;

/// What the trials of one right showed, table by table.
#[derive(Debug, Clone, Default)]
pub struct Tally {
    granted: usize,
    /// Tables where the server refused for a permission, with its words.
    denied: Vec<(String, String)>,
    /// Tables where the trial told nothing, with the server's words.
    unknown: Vec<(String, String)>,
    /// Who answered for tables the trials told nothing of.
    asked: Option<Asked>,
}

impl Tally {
    /// Runs one trial per table; the first transient fault is the error.
    pub async fn of(
        client: &mut SqlClient,
        side: Side,
        trials: impl Iterator<Item = (String, Trial)>,
    ) -> db::Result<Self> {
        let mut tally = Self::default();
        for (table, t) in trials {
            match trial(client, side, &t).await? {
                Answer::Granted => tally.granted += 1,
                Answer::Denied(words) => tally.denied.push((table, words)),
                Answer::Unknown(words) => tally.unknown.push((table, words)),
            }
        }
        Ok(tally)
    }

    /// Asks the server about the tables the trials told nothing of (`HAS_PERMS_BY_NAME`, else
    /// `fn_my_permissions`), when it answers truthfully: it must confirm `SELECT` on
    /// `proven`, a table the session read.
    pub async fn ask_server(
        &mut self,
        client: &mut SqlClient,
        side: Side,
        proven: Option<&str>,
        permission: Permission,
    ) -> db::Result<()> {
        let Some(proven) = proven else { return Ok(()) };
        if self.unknown.is_empty() {
            return Ok(());
        }
        let source = if has_object_permission(client, side, proven, Permission::Select).await?
            == Some(true)
        {
            Asked::HasPerms
        } else if lists(client, side, proven, Permission::Select).await? == Some(true) {
            Asked::MyPermissions
        } else {
            return Ok(());
        };
        let mut still = Vec::new();
        for (table, words) in std::mem::take(&mut self.unknown) {
            let answer = match source {
                Asked::HasPerms => has_object_permission(client, side, &table, permission).await?,
                Asked::MyPermissions => lists(client, side, &table, permission).await?,
            };
            match answer {
                Some(true) => self.granted += 1,
                Some(false) => self
                    .denied
                    .push((table, format!("{} lacks {permission}", source.name()))),
                None => {
                    still.push((table, words));
                    continue;
                }
            }
            self.asked = Some(source);
        }
        self.unknown = still;
        Ok(())
    }

    /// The line `name` of trials on `what` (e.g. "platform table(s)"); `advice` says what a
    /// denial means.
    pub fn line(&self, name: &str, what: &str, advice: &Advice) -> Line {
        let total = self.granted + self.denied.len() + self.unknown.len();
        let how = match self.asked {
            Some(asked) => format!("tried each, some answered by {}", asked.name()),
            None => "tried each with a statement that changes nothing, rolled back".to_owned(),
        };
        if let Some((_, words)) = self.denied.first() {
            return line(
                name,
                advice.verdict,
                format!(
                    "denied on {} (server: {words}); {}",
                    which(&self.denied, total, what),
                    advice.text
                ),
            );
        }
        if let Some((_, words)) = self.unknown.first() {
            // Not knowing about a right no path needs is only worth a note.
            let verdict = match advice.verdict {
                Verdict::Note => Verdict::Note,
                _ => Verdict::Unknown,
            };
            return line(
                name,
                verdict,
                format!(
                    "could not tell on {}: the server refused the trial for a reason other than \
                     a permission and does not report the right otherwise (server: {words}); if \
                     the login lacks it: {}",
                    which(&self.unknown, total, what),
                    advice.text
                ),
            );
        }
        if total == 0 {
            return line(name, Verdict::Ok, format!("no {what} to try"));
        }
        line(name, Verdict::Ok, format!("on all {total} {what} ({how})"))
    }
}

/// "all 5 table(s)", or "2 of 5 table(s): `A`, `B`" (the first few named).
fn which(tables: &[(String, String)], total: usize, what: &str) -> String {
    if tables.len() == total {
        return format!("all {total} {what}");
    }
    let named = list(tables.iter().map(|(t, _)| format!("`{t}`")));
    format!("{} of {total} {what}: {named}", tables.len())
}

/// Who answered for a right the trials told nothing of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Asked {
    HasPerms,
    MyPermissions,
}

impl Asked {
    fn name(self) -> &'static str {
        match self {
            Asked::HasPerms => "`HAS_PERMS_BY_NAME`",
            Asked::MyPermissions => "`fn_my_permissions`",
        }
    }
}

/// Whether `fn_my_permissions` lists `permission` on `table`; `None` when it does not answer.
async fn lists(
    client: &mut SqlClient,
    side: Side,
    table: &str,
    permission: Permission,
) -> db::Result<Option<bool>> {
    Ok(my_object_permissions(client, side, table)
        .await?
        .map(|listed| {
            listed
                .iter()
                .any(|p| p.eq_ignore_ascii_case(permission.as_str()))
        }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn advice() -> Advice {
        Advice {
            verdict: Verdict::Block,
            text: "use `generated`".to_owned(),
        }
    }

    #[test]
    fn a_denial_blocks_and_names_the_table_and_what_to_do() {
        let t = Tally {
            granted: 4,
            denied: vec![("ossys_BPM_Process".into(), "no ALTER".into())],
            ..Tally::default()
        };
        let l = t.line("target right ALTER", "keyed instance table(s)", &advice());
        assert_eq!(l.verdict, Verdict::Block);
        assert_eq!(
            l.detail,
            "denied on 1 of 5 keyed instance table(s): `ossys_BPM_Process` (server: no \
             ALTER); use `generated`"
        );
    }

    #[test]
    fn a_trial_the_server_does_not_run_is_could_not_tell_never_ok() {
        let t = Tally {
            granted: 1,
            unknown: vec![("T".into(), "unknown statement DBCC".into())],
            ..Tally::default()
        };
        let l = t.line("x", "table(s)", &advice());
        assert_eq!(l.verdict, Verdict::Unknown);
        assert!(
            l.detail
                .starts_with("could not tell on 1 of 2 table(s): `T`"),
            "{}",
            l.detail
        );
        let t = Tally {
            granted: 3,
            ..Tally::default()
        };
        let l = t.line("x", "table(s)", &advice());
        assert_eq!(l.verdict, Verdict::Ok);
        assert!(l.detail.starts_with("on all 3 table(s)"), "{}", l.detail);
    }
}
