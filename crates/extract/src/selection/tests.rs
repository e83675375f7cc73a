//! Every statement the selection sends names a platform table as the source's catalog spells
//! it: no upper-case model name reaches the SQL of a database that spells it otherwise.

use bptmig_db::{Names, Side};
use bptmig_model::catalog as c;
use bptmig_model::pipeline::Selection;

use super::roots::{conditions, last_modified_sql, names_sql, Asked};
use super::scope::{TreeScope, LEVEL_TABLES};
use super::trees::{keys_sql, parent_activities_sql};
use super::used::{level_sql, referenced_sql};
use super::*;

/// `OSSYS_BPM_PROCESS_STATUS` as the platform creates it: `ossys_Bpm_Process_Status`.
fn mixed(model: &str) -> String {
    let mut words = model.split('_');
    let prefix = words.next().unwrap_or_default().to_ascii_lowercase();
    let rest = words.map(|w| {
        let lower = w.to_ascii_lowercase();
        let mut chars = lower.chars();
        chars.next().map_or_else(String::new, |first| {
            first.to_ascii_uppercase().to_string() + chars.as_str()
        })
    });
    std::iter::once(prefix)
        .chain(rest)
        .collect::<Vec<_>>()
        .join("_")
}

/// Every table the selection reads, by its model name.
fn read_tables() -> Vec<&'static str> {
    let mut tables: Vec<&str> = c::INSTANCE_TABLES.iter().map(|t| t.name).collect();
    tables.extend([
        c::PROCESS_STATUS,
        c::TENANT,
        c::ESPACE,
        c::PROCESS_DEFINITION,
        c::ENTITY,
    ]);
    tables
}

fn spelled(tables: &[&str]) -> Names {
    Names::from_spellings(Side::Source, tables.iter().map(|t| mixed(t)))
}

/// A selection that asks for every condition there is.
fn everything() -> (Selection, Asked) {
    let sel = Selection {
        created_from: Some("2019-01-01".to_owned()),
        created_to: Some("2020-01-01".to_owned()),
        include_inactive_definitions: false,
        ..Selection::default()
    };
    let asked = Asked {
        statuses: vec!["Closed".to_owned()],
        tenants: vec!["Acme".to_owned()],
        process_definitions: vec!["Hire".to_owned()],
        espaces: vec!["Recruiting".to_owned()],
    };
    (sel, asked)
}

/// Every statement the selection builds, as `names` spells the tables.
fn statements(names: &Names) -> bptmig_db::Result<Vec<String>> {
    let (sel, asked) = everything();
    let filters = conditions(names, &asked, &sel)?;
    let mut sql = vec![
        filters.roots_sql(),
        filters.among_sql(&[3, 4]),
        last_modified_sql(&filters),
        keys_sql(names)?,
        event_tables_sql(names)?,
    ];
    for table in [
        c::PROCESS_STATUS,
        c::TENANT,
        c::PROCESS_DEFINITION,
        c::ESPACE,
    ] {
        sql.push(names_sql(names, table)?);
    }
    let (fill, read) = parent_activities_sql(names, "#acts")?;
    sql.extend([fill, read]);
    let scope = TreeScope::unique();
    for (table, _) in LEVEL_TABLES {
        sql.push(level_sql(names, &scope, table)?);
    }
    for table in c::INSTANCE_TABLES {
        for (column, _, _) in table.foreign_keys() {
            sql.push(referenced_sql(names, &scope, table.name, column.name)?);
        }
    }
    Ok(sql)
}

#[test]
fn a_spelled_selection_never_names_a_table_in_upper_case() {
    let tables = read_tables();
    let names = spelled(&tables);
    assert_eq!(mixed(c::PROCESS_STATUS), "ossys_Bpm_Process_Status");
    let text = statements(&names).unwrap().join("\n");
    assert!(!text.contains("OSSYS_"), "an upper-case name in:\n{text}");
    for table in tables {
        assert!(
            text.contains(&format!("[{}]", mixed(table))),
            "{table} as the catalog spells it in:\n{text}"
        );
    }
    // Columns keep the model's names (the platform spells them upper case).
    assert!(text.contains("[PARENT_ACTIVITY_ID]"), "{text}");
}

#[test]
fn a_table_the_source_lacks_is_named_before_anything_is_sent() {
    let tables: Vec<&str> = read_tables()
        .into_iter()
        .filter(|t| *t != c::TENANT)
        .collect();
    let err = statements(&spelled(&tables)).unwrap_err().to_string();
    assert!(err.contains(&format!("`{}`", c::TENANT)), "{err}");
}
