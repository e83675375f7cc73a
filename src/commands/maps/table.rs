//! `--table`: the model's name or the platform's spelling (`ossys_BPM_Process`), in any case.

use bptmig_model::catalog::{self as c, TableRole, INSTANCE_TABLES};

use super::MapsError;

/// The model name (`OSSYS_BPM_PROCESS`) of the instance table `name` names, compared
/// case-insensitively; an `OSEVT_*` table (no IDs of its own), a platform table the run does
/// not renumber, or an unknown name is refused with the tables that have maps.
pub fn resolve(name: &str) -> Result<&'static str, MapsError> {
    let name = name.trim();
    let tables = || {
        INSTANCE_TABLES
            .iter()
            .filter(|t| t.key.is_some())
            .map(|t| format!("`{}`", t.name))
            .collect::<Vec<_>>()
            .join(", ")
    };
    if c::is_osevt(name) {
        return Err(MapsError::NoIds {
            name: name.to_owned(),
            tables: tables(),
        });
    }
    match c::table(name) {
        Some(t) if t.role == TableRole::Instance && t.key.is_some() => Ok(t.name),
        Some(_) => Err(MapsError::NotMoved {
            name: name.to_owned(),
            tables: tables(),
        }),
        None => Err(MapsError::Unknown {
            name: name.to_owned(),
            tables: tables(),
        }),
    }
}
