//! The tables of a database as its catalog spells them.
//!
//! bptmig's model writes table names in upper case (`OSSYS_BPM_PROCESS`); the platform
//! creates them in mixed case (`ossys_BPM_Process`, `OSEVT_3ar_Candidate`). On a database
//! with a case-sensitive collation a statement must use the catalog's spelling, so each
//! session reads the spellings once ([`Names::read`]) and every statement it builds names a
//! table through [`Names::quoted`]. Work-directory names stay the model's.

use std::collections::HashMap;

use crate::query::{query_rows, text_cell};
use crate::sql::quote_ident;
use crate::{Error, Result, Side, SqlClient};

/// The spellings of a side's tables, keyed by their upper-case form.
#[derive(Debug, Clone)]
pub struct Names {
    side: Side,
    by_upper: HashMap<String, Vec<String>>,
}

impl Names {
    /// Every table of the session's database, from `INFORMATION_SCHEMA.TABLES`.
    pub async fn read(client: &mut SqlClient, side: Side) -> Result<Self> {
        let sql = "SELECT TABLE_NAME FROM INFORMATION_SCHEMA.TABLES";
        let rows = query_rows(client, side, sql, &[]).await?;
        Ok(Self::from_spellings(
            side,
            rows.iter().filter_map(|r| text_cell(r, 0)),
        ))
    }

    /// The names of `spellings` as a catalog of `side` would list them.
    pub fn from_spellings(side: Side, spellings: impl IntoIterator<Item = String>) -> Self {
        let mut by_upper: HashMap<String, Vec<String>> = HashMap::new();
        for name in spellings {
            let all = by_upper.entry(name.to_ascii_uppercase()).or_default();
            if !all.contains(&name) {
                all.push(name);
            }
        }
        for all in by_upper.values_mut() {
            all.sort();
        }
        Self { side, by_upper }
    }

    /// The side whose names these are.
    pub fn side(&self) -> Side {
        self.side
    }

    /// Whether a table named `name` in any case exists (once or more).
    pub fn contains(&self, name: &str) -> bool {
        self.by_upper.contains_key(&name.to_ascii_uppercase())
    }

    /// The catalog's spelling of `name` (any case); `None` when no such table exists,
    /// [`Error::AmbiguousTable`] when two tables' names differ only by case.
    pub fn find(&self, name: &str) -> Result<Option<&str>> {
        match self
            .by_upper
            .get(&name.to_ascii_uppercase())
            .map(Vec::as_slice)
        {
            None | Some([]) => Ok(None),
            Some([one]) => Ok(Some(one)),
            Some(many) => Err(Error::AmbiguousTable {
                side: self.side,
                table: name.to_owned(),
                spellings: many.join("`, `"),
            }),
        }
    }

    /// The catalog's spelling of `name`; [`Error::MissingTable`] when there is none.
    pub fn spelled(&self, name: &str) -> Result<&str> {
        self.find(name)?.ok_or_else(|| Error::MissingTable {
            side: self.side,
            table: name.to_owned(),
        })
    }

    /// `name` as its catalog spells it, quoted for a statement (`[ossys_BPM_Process]`).
    pub fn quoted(&self, name: &str) -> Result<String> {
        self.spelled(name).map(quote_ident)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Names {
        Names::from_spellings(Side::Target, list.iter().map(|s| (*s).to_owned()))
    }

    #[test]
    fn a_model_name_finds_the_mixed_case_spelling() {
        let n = names(&["ossys_BPM_Process", "OSEVT_3ar_Candidate"]);
        assert_eq!(n.spelled("OSSYS_BPM_PROCESS").unwrap(), "ossys_BPM_Process");
        assert_eq!(
            n.quoted("osevt_3AR_candidate").unwrap(),
            "[OSEVT_3ar_Candidate]"
        );
        assert!(n.contains("Ossys_Bpm_Process"));
    }

    #[test]
    fn an_absent_table_is_none_and_named_when_required() {
        let n = names(&["ossys_Espace"]);
        assert_eq!(n.find("OSSYS_USER").unwrap(), None);
        let err = n.spelled("OSSYS_USER").unwrap_err().to_string();
        assert!(err.contains("`OSSYS_USER`"), "{err}");
        assert!(!n.contains("OSSYS_USER"));
    }

    #[test]
    fn two_tables_differing_only_by_case_are_refused() {
        let n = names(&["ossys_Espace", "OSSYS_ESPACE", "ossys_Espace"]);
        let err = n.find("ossys_espace").unwrap_err().to_string();
        assert!(
            err.contains("`OSSYS_ESPACE`, `ossys_Espace`"),
            "both spellings named: {err}"
        );
        assert!(matches!(
            n.quoted("OSSYS_ESPACE"),
            Err(Error::AmbiguousTable { .. })
        ));
    }

    #[test]
    fn a_name_with_a_bracket_is_quoted_whole() {
        let n = names(&["odd]name"]);
        assert_eq!(n.quoted("ODD]NAME").unwrap(), "[odd]]name]");
    }
}
