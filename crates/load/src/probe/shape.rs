//! Session temporary tables shaped like the target's instance tables: the same columns,
//! types and nullability, and the same identity (seed and increment), read from its catalog.

use bptmig_db::{self as db, quote_ident, quote_text, Names, Side, SqlClient};
use bptmig_model::catalog as c;
use bptmig_workdir::sql_type::ColumnPlan;

use crate::Result;

/// A temporary table's identity column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub column: String,
    pub seed: i64,
    pub increment: i64,
}

/// The shape of one table, and the temporary table that has it.
#[derive(Debug, Clone)]
pub struct Shape {
    /// The target's table it copies (the model's name).
    pub table: &'static str,
    /// The session temporary table (`#…`).
    pub temp: String,
    pub plans: Vec<ColumnPlan>,
    pub identity: Option<Identity>,
}

impl Shape {
    /// The shapes of the target's keyed instance tables (those it has), each with its
    /// temporary table's name, `prefix` + a number.
    pub async fn of_target(client: &mut SqlClient, prefix: &str) -> Result<Vec<Shape>> {
        let names = Names::read(client, Side::Target).await?;
        let mut shapes = Vec::new();
        for (i, t) in c::INSTANCE_TABLES.iter().enumerate() {
            let Some(spelled) = names.find(t.name)?.map(str::to_owned) else {
                continue;
            };
            let columns = db::table_columns(client, Side::Target, &spelled).await?;
            let plans = columns
                .iter()
                .map(|col| ColumnPlan::from_catalog(t.name, col))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|source| db::Error::Type {
                    side: Side::Target,
                    source,
                })?;
            let Some(identity) = identity(client, &spelled).await? else {
                continue;
            };
            shapes.push(Shape {
                table: t.name,
                temp: format!("{prefix}{i}"),
                plans,
                identity: Some(identity),
            });
        }
        Ok(shapes)
    }

    /// The same shape in another temporary table: `prefix` + the same number.
    pub fn renamed(&self, prefix: &str) -> Shape {
        let number = self.temp.rsplit('_').next().unwrap_or_default();
        let number = number.trim_start_matches(|c: char| !c.is_ascii_digit());
        Shape {
            temp: format!("{prefix}{number}"),
            ..self.clone()
        }
    }

    /// Whether generated IDs grow (a positive increment).
    pub fn ascending(&self) -> bool {
        self.identity.as_ref().is_none_or(|i| i.increment > 0)
    }

    /// The identity column's name, if any.
    pub fn id(&self) -> Option<&str> {
        self.identity.as_ref().map(|i| i.column.as_str())
    }

    /// `CREATE TABLE #…` with the shape's columns.
    pub fn create_sql(&self) -> String {
        let columns: Vec<String> = self
            .plans
            .iter()
            .map(|p| {
                let identity = match &self.identity {
                    Some(i) if i.column.eq_ignore_ascii_case(&p.name) => {
                        format!(" IDENTITY({}, {})", i.seed, i.increment)
                    }
                    _ => String::new(),
                };
                let null = if p.nullable { "NULL" } else { "NOT NULL" };
                format!(
                    "{} {}{identity} {null}",
                    quote_ident(&p.name),
                    p.sql_type.ddl()
                )
            })
            .collect();
        format!("CREATE TABLE {} ({})", self.temp, columns.join(", "))
    }

    /// The column names, quoted, for an `INSERT`'s list: every column, or all but the
    /// identity.
    pub fn column_names(&self, with_identity: bool) -> Vec<String> {
        self.plans
            .iter()
            .filter(|p| {
                with_identity || self.id().is_none_or(|id| !id.eq_ignore_ascii_case(&p.name))
            })
            .map(|p| p.name.clone())
            .collect()
    }
}

/// Drops the session's temporary table `temp` (each path creates its own, under a name of
/// its own, so nothing needs an "if it exists": some compatible servers answer neither
/// `OBJECT_ID('tempdb..#…')` nor `DROP TABLE IF EXISTS`).
pub fn drop_sql(temp: &str) -> String {
    format!("DROP TABLE {temp}")
}

/// `table`'s identity column, seed and increment; `None` when it has none.
async fn identity(client: &mut SqlClient, table: &str) -> Result<Option<Identity>> {
    let t = quote_text(table);
    let sql = format!(
        "SELECT name, CAST(IDENT_SEED({t}) AS BIGINT), CAST(IDENT_INCR({t}) AS BIGINT) \
         FROM sys.identity_columns WHERE object_id = OBJECT_ID({t})"
    );
    let rows = db::query_rows(client, Side::Target, &sql, &[]).await?;
    Ok(rows.first().and_then(|r| {
        Some(Identity {
            column: db::text_cell(r, 0)?,
            seed: db::int_cell(r, 1).unwrap_or(1),
            increment: db::int_cell(r, 2).unwrap_or(1),
        })
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use bptmig_workdir::sql_type::SqlType;

    #[test]
    fn the_temporary_table_has_the_columns_types_and_identity() {
        let shape = Shape {
            table: c::PROCESS,
            temp: "#p0".to_owned(),
            plans: vec![
                ColumnPlan {
                    name: "ID".to_owned(),
                    sql_type: SqlType::Int,
                    nullable: false,
                },
                ColumnPlan {
                    name: "LABEL".to_owned(),
                    sql_type: SqlType::NVarChar { len: Some(50) },
                    nullable: true,
                },
            ],
            identity: Some(Identity {
                column: "ID".to_owned(),
                seed: -2_147_483_648,
                increment: 1,
            }),
        };
        assert_eq!(
            shape.create_sql(),
            "CREATE TABLE #p0 ([ID] INT IDENTITY(-2147483648, 1) NOT NULL, [LABEL] NVARCHAR(50) \
             NULL)"
        );
        assert_eq!(shape.column_names(false), vec!["LABEL".to_owned()]);
        assert_eq!(shape.column_names(true).len(), 2);
        assert_eq!(shape.renamed("#g").temp, "#g0");
        assert!(shape.ascending());
    }
}
