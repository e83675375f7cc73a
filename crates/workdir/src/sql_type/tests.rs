//! SQL types: catalog rows, DDL and plans.

use super::*;

fn catalog(data_type: &str) -> CatalogColumn {
    CatalogColumn {
        name: "COL".to_owned(),
        data_type: data_type.to_owned(),
        char_max_len: None,
        numeric_precision: None,
        numeric_scale: None,
        datetime_precision: None,
        nullable: true,
    }
}

fn with_len(data_type: &str, len: i32) -> CatalogColumn {
    CatalogColumn {
        char_max_len: Some(len),
        ..catalog(data_type)
    }
}

fn plan(name: &str, sql_type: SqlType, nullable: bool) -> ColumnPlan {
    ColumnPlan {
        name: name.to_owned(),
        sql_type,
        nullable,
    }
}

// ---- catalog ---------------------------------------------------------------------------------

#[test]
#[expect(
    clippy::too_many_lines,
    reason = "a table: every catalog type SQL Server has, with the plan it gets"
)]
fn from_catalog_maps_every_supported_type() {
    let decimal = CatalogColumn {
        numeric_precision: Some(37),
        numeric_scale: Some(8),
        ..catalog("decimal")
    };
    let numeric = CatalogColumn {
        numeric_precision: Some(38),
        numeric_scale: Some(0),
        ..catalog("NUMERIC")
    };
    let float24 = CatalogColumn {
        numeric_precision: Some(24),
        ..catalog("float")
    };
    let float53 = CatalogColumn {
        numeric_precision: Some(53),
        ..catalog("float")
    };
    let precise = |data_type: &str, p: i16| CatalogColumn {
        datetime_precision: Some(p),
        ..catalog(data_type)
    };
    let cases = [
        (catalog("tinyint"), SqlType::TinyInt, "TINYINT"),
        (catalog("smallint"), SqlType::SmallInt, "SMALLINT"),
        (catalog("int"), SqlType::Int, "INT"),
        (catalog("bigint"), SqlType::BigInt, "BIGINT"),
        (catalog("bit"), SqlType::Bit, "BIT"),
        (
            decimal,
            SqlType::Decimal {
                precision: 37,
                scale: 8,
            },
            "DECIMAL(37,8)",
        ),
        (
            numeric,
            SqlType::Decimal {
                precision: 38,
                scale: 0,
            },
            "DECIMAL(38,0)",
        ),
        (catalog("money"), SqlType::Money, "MONEY"),
        (catalog("smallmoney"), SqlType::SmallMoney, "SMALLMONEY"),
        (float53, SqlType::Float, "FLOAT"),
        (float24, SqlType::Real, "REAL"),
        (catalog("real"), SqlType::Real, "REAL"),
        (with_len("char", 10), SqlType::Char { len: 10 }, "CHAR(10)"),
        (
            with_len("varchar", 8000),
            SqlType::VarChar { len: Some(8000) },
            "VARCHAR(8000)",
        ),
        (
            with_len("varchar", -1),
            SqlType::VarChar { len: None },
            "VARCHAR(MAX)",
        ),
        (with_len("nchar", 1), SqlType::NChar { len: 1 }, "NCHAR(1)"),
        (
            with_len("nvarchar", 50),
            SqlType::NVarChar { len: Some(50) },
            "NVARCHAR(50)",
        ),
        (
            with_len("nvarchar", -1),
            SqlType::NVarChar { len: None },
            "NVARCHAR(MAX)",
        ),
        (with_len("text", i32::MAX), SqlType::Text, "TEXT"),
        (with_len("ntext", 1_073_741_823), SqlType::NText, "NTEXT"),
        (catalog("datetime"), SqlType::DateTime, "DATETIME"),
        (
            catalog("smalldatetime"),
            SqlType::SmallDateTime,
            "SMALLDATETIME",
        ),
        (
            precise("datetime2", 3),
            SqlType::DateTime2 { scale: 3 },
            "DATETIME2(3)",
        ),
        (
            catalog("datetime2"),
            SqlType::DateTime2 { scale: 7 },
            "DATETIME2(7)",
        ),
        (catalog("date"), SqlType::Date, "DATE"),
        (precise("time", 0), SqlType::Time { scale: 0 }, "TIME(0)"),
        (
            precise("datetimeoffset", 7),
            SqlType::DateTimeOffset { scale: 7 },
            "DATETIMEOFFSET(7)",
        ),
        (
            catalog("uniqueidentifier"),
            SqlType::UniqueIdentifier,
            "UNIQUEIDENTIFIER",
        ),
        (
            with_len("binary", 16),
            SqlType::Binary { len: 16 },
            "BINARY(16)",
        ),
        (
            with_len("varbinary", -1),
            SqlType::VarBinary { len: None },
            "VARBINARY(MAX)",
        ),
        (
            with_len("varbinary", 8000),
            SqlType::VarBinary { len: Some(8000) },
            "VARBINARY(8000)",
        ),
        (with_len("image", i32::MAX), SqlType::Image, "IMAGE"),
    ];
    for (column, expected, ddl) in cases {
        let sql_type = SqlType::from_catalog("T", &column).unwrap();
        assert_eq!(sql_type, expected, "{}", column.data_type);
        assert_eq!(sql_type.ddl(), ddl);
        assert_eq!(SqlType::from_ddl(ddl), Some(sql_type), "{ddl}");
        assert_eq!(
            SqlType::from_ddl(&ddl.to_lowercase()),
            Some(sql_type),
            "{ddl}"
        );
        let plan = ColumnPlan::from_catalog("T", &column).unwrap();
        assert_eq!(plan.sql_type, sql_type);
    }
}

#[test]
fn unsupported_types_are_refused_with_what_to_do() {
    for data_type in [
        "xml",
        "sql_variant",
        "geography",
        "geometry",
        "hierarchyid",
        "timestamp",
        "rowversion",
        "vector",
        "json",
        "something_new",
    ] {
        let column = CatalogColumn {
            name: "PAYLOAD".to_owned(),
            ..catalog(data_type)
        };
        let err = SqlType::from_catalog("OSSYS_X", &column).unwrap_err();
        assert_eq!(
            err,
            TypeError::Unsupported {
                table: "OSSYS_X".to_owned(),
                column: "PAYLOAD".to_owned(),
                sql_type: data_type.to_owned(),
            }
        );
        let message = err.to_string();
        assert!(message.contains("`OSSYS_X.PAYLOAD`"), "{message}");
        assert!(message.contains(&format!("`{data_type}`")), "{message}");
        assert!(message.contains("exclude the column"), "{message}");
    }
}

#[test]
fn incomplete_catalog_rows_are_refused() {
    let cases = [
        catalog("decimal"),
        CatalogColumn {
            numeric_precision: Some(39),
            numeric_scale: Some(0),
            ..catalog("decimal")
        },
        CatalogColumn {
            numeric_precision: Some(10),
            numeric_scale: Some(11),
            ..catalog("decimal")
        },
        catalog("nvarchar"),
        with_len("nvarchar", 0),
        with_len("char", -1),
        CatalogColumn {
            datetime_precision: Some(8),
            ..catalog("datetime2")
        },
    ];
    for column in cases {
        let err = SqlType::from_catalog("T", &column).unwrap_err();
        assert!(
            matches!(err, TypeError::InvalidCatalog { .. }),
            "{column:?}: {err}"
        );
        assert!(err.to_string().contains("`T.COL`"));
    }
}

#[test]
fn from_ddl_rejects_what_ddl_never_writes() {
    for ddl in [
        "",
        "XML",
        "INT(4)",
        "NVARCHAR",
        "NVARCHAR(0)",
        "NVARCHAR(MAX",
        "DECIMAL(39,0)",
        "DECIMAL(5,6)",
        "DECIMAL(5)",
        "DATETIME2(8)",
        "MONEY(4)",
    ] {
        assert_eq!(SqlType::from_ddl(ddl), None, "{ddl}");
    }
    assert_eq!(
        SqlType::from_ddl(" numeric( 10 , 2 ) "),
        Some(SqlType::Decimal {
            precision: 10,
            scale: 2
        })
    );
}

// ---- plans -----------------------------------------------------------------------------------

#[test]
fn select_expr_converts_date_times_to_iso_text() {
    let expr = |name: &str, sql_type| plan(name, sql_type, true).select_expr();
    assert_eq!(
        expr("CREATED", SqlType::DateTime),
        "CONVERT(VARCHAR(33), [CREATED], 126) AS [CREATED]"
    );
    assert_eq!(
        expr("D", SqlType::DateTime2 { scale: 7 }),
        "CONVERT(VARCHAR(33), [D], 126) AS [D]"
    );
    assert_eq!(
        expr("D", SqlType::SmallDateTime),
        "CONVERT(VARCHAR(33), [D], 126) AS [D]"
    );
    assert_eq!(
        expr("D", SqlType::Date),
        "CONVERT(VARCHAR(10), [D], 23) AS [D]"
    );
    assert_eq!(
        expr("T", SqlType::Time { scale: 7 }),
        "CAST([T] AS VARCHAR(18)) AS [T]"
    );
    assert_eq!(
        expr("O", SqlType::DateTimeOffset { scale: 7 }),
        "CAST([O] AS VARCHAR(40)) AS [O]"
    );
    assert_eq!(
        expr("M", SqlType::Money),
        "CAST([M] AS DECIMAL(19,4)) AS [M]"
    );
    assert_eq!(
        expr("M", SqlType::SmallMoney),
        "CAST([M] AS DECIMAL(10,4)) AS [M]"
    );
    assert_eq!(expr("ID", SqlType::Int), "[ID]");
    assert_eq!(expr("odd]name", SqlType::Int), "[odd]]name]");
}

#[test]
fn dictionary_encoding_for_repeating_values_only() {
    let dict = |sql_type| plan("C", sql_type, true).dictionary_encoding();
    assert!(dict(SqlType::NVarChar { len: Some(50) }));
    assert!(dict(SqlType::Char { len: 1 }));
    assert!(dict(SqlType::Bit));
    assert!(!dict(SqlType::NVarChar { len: None }));
    assert!(!dict(SqlType::Int));
    assert!(!dict(SqlType::DateTime));
    assert!(!dict(SqlType::UniqueIdentifier));
}

#[test]
fn arrow_field_carries_type_and_ddl() {
    let field = plan(
        "AMOUNT",
        SqlType::Decimal {
            precision: 37,
            scale: 8,
        },
        false,
    )
    .arrow_field();
    assert_eq!(field.name(), "AMOUNT");
    assert_eq!(field.data_type(), &DataType::Decimal128(37, 8));
    assert!(!field.is_nullable());
    assert_eq!(
        field
            .metadata()
            .get(SQL_TYPE_METADATA_KEY)
            .map(String::as_str),
        Some("DECIMAL(37,8)")
    );
    let schema = schema_for(&[
        plan("A", SqlType::Int, false),
        plan("B", SqlType::DateTime, true),
    ]);
    assert_eq!(schema.fields().len(), 2);
    assert_eq!(
        schema.field(1).data_type(),
        &DataType::Timestamp(TimeUnit::Millisecond, None)
    );
}
