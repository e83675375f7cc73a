//! Text literals parsed back by an independent parser of the grammar `push_text` emits:
//! long values, many pieces, and random text.

use arrow::array::StringArray;
use bptmig_load::value::literal::render;
use bptmig_workdir::sql_type::SqlType;

use crate::rng::Rng;

fn one(ty: SqlType, array: &StringArray, row: usize) -> String {
    let mut out = String::new();
    render(&mut out, ty, array, row).unwrap();
    out
}

#[test]
fn long_text_is_one_literal_or_a_max_concatenation() {
    let ty = SqlType::NVarChar { len: None };
    let long = "x'😀".repeat(3_000);
    let with_nul = format!("{long}\0{long}");
    let array = StringArray::from(vec![long.as_str(), with_nul.as_str()]);
    let plain = one(ty, &array, 0);
    assert!(plain.starts_with("N'x''😀"));
    assert_eq!(parse_literal(&plain), long);
    let split = one(ty, &array, 1);
    assert!(split.starts_with("CAST(N'x''😀"));
    assert!(split.contains("' AS NVARCHAR(MAX)) + (CAST(NCHAR(0) AS NVARCHAR(MAX)) + CAST(N'x"));
    assert_eq!(parse_literal(&split), with_nul);
    // Short split values need no CAST.
    let array = StringArray::from(vec!["a".repeat(3_999) + "\0"]);
    assert!(one(ty, &array, 0).starts_with("N'aaa"));
    // Many pieces make a shallow tree.
    let many = "a\0".repeat(2_000);
    let array = StringArray::from(vec![many.as_str()]);
    let sql = one(ty, &array, 0);
    assert_eq!(parse_literal(&sql), many);
    assert_eq!(max_paren_depth(&sql), 11); // 4,000 pieces: ⌈log2 4,000⌉ - 1 levels of `(`
}

/// Parses the grammar `push_text` emits, independently of it:
/// expr = term ( ` + ` term )*; term = `(` expr `)` | `CAST(` term ` AS NVARCHAR(MAX))` |
/// `N'…'` (with `''` for `'`) | `NCHAR(0)`. Also checks what SQL Server would otherwise
/// misread: no NUL in the statement text, and no backslash-newline inside a literal.
fn parse_literal(sql: &str) -> String {
    assert!(!sql.contains('\0'), "NUL in statement text");
    let mut value = String::new();
    let rest = parse_expr(sql, &mut value);
    assert!(rest.is_empty(), "trailing text: {rest:?}");
    value
}

fn parse_expr<'a>(mut sql: &'a str, value: &mut String) -> &'a str {
    loop {
        sql = parse_term(sql, value);
        match sql.strip_prefix(" + ") {
            Some(after) => sql = after,
            None => return sql,
        }
    }
}

fn parse_term<'a>(sql: &'a str, value: &mut String) -> &'a str {
    if let Some(after) = sql.strip_prefix('(') {
        let rest = parse_expr(after, value);
        return rest.strip_prefix(')').expect("`)` closes `(`");
    }
    if let Some(after) = sql.strip_prefix("CAST(") {
        let rest = parse_term(after, value);
        return rest
            .strip_prefix(" AS NVARCHAR(MAX))")
            .expect("CAST to NVARCHAR(MAX)");
    }
    if let Some(after) = sql.strip_prefix("NCHAR(0)") {
        value.push('\0');
        return after;
    }
    let body = sql.strip_prefix("N'").expect("a term");
    let mut chars = body.char_indices();
    loop {
        let (i, c) = chars.next().expect("unterminated literal");
        if c == '\'' {
            if body[i + 1..].starts_with('\'') {
                chars.next();
                value.push('\'');
            } else {
                return &body[i + 1..];
            }
        } else {
            assert!(
                !(c == '\\' && body[i + 1..].starts_with(['\r', '\n'])),
                "backslash-newline inside a literal"
            );
            value.push(c);
        }
    }
}

/// Deepest nesting of the tree's parentheses (not CAST's or NCHAR's) outside literals.
fn max_paren_depth(sql: &str) -> usize {
    let (mut max, mut in_literal, mut previous) = (0, false, ' ');
    // Per open parenthesis: whether it is the tree's.
    let mut open: Vec<bool> = Vec::new();
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        match (in_literal, c) {
            (false, '\'') => in_literal = true,
            (true, '\'') if chars.peek() == Some(&'\'') => {
                chars.next();
            }
            (true, '\'') => in_literal = false,
            (false, '(') => {
                open.push(!previous.is_ascii_alphabetic());
                max = max.max(open.iter().filter(|&&tree| tree).count());
            }
            (false, ')') => {
                open.pop().unwrap();
            }
            _ => {}
        }
        previous = c;
    }
    max
}

#[test]
fn random_text_round_trips_through_the_literal_grammar() {
    let mut rng = Rng(0x5EED_2024);
    let ty = SqlType::NVarChar { len: None };
    let mut out = String::new();
    let mut lengths = 0_usize;
    for _ in 0..2_000 {
        let text = rng.string(5_000);
        lengths += text.chars().count();
        let array = StringArray::from(vec![text.as_str()]);
        out.clear();
        render(&mut out, ty, &array, 0).unwrap();
        assert_eq!(parse_literal(&out), text);
        // A balanced tree of at most 5,000 pieces stays shallow.
        assert!(max_paren_depth(&out) <= 12, "{}", max_paren_depth(&out));
    }
    // The generator reaches long strings, not just short ones.
    assert!(lengths > 500_000, "{lengths}");
}
