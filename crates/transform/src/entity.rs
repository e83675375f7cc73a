//! Optional entity ID maps (`mapping.entity_maps`): old → new IDs of an application table,
//! from CSV (`old_id,new_id`) or Parquet (columns `old_id`, `new_id`).

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use arrow::array::{Array, AsArray};
use arrow::datatypes::{DataType, Int32Type, Int64Type};

use crate::{Error, Result};

/// Loads every map the pipeline names, by physical table.
pub fn load_all(files: &BTreeMap<String, PathBuf>) -> Result<BTreeMap<String, HashMap<i64, i64>>> {
    files
        .iter()
        .map(|(table, path)| Ok((table.clone(), load(path)?)))
        .collect()
}

/// Loads one map.
pub fn load(path: &Path) -> Result<HashMap<i64, i64>> {
    let bad = |line: usize, message: String| Error::EntityMap {
        path: path.to_owned(),
        line,
        message,
    };
    if path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("parquet"))
    {
        let mut out = HashMap::new();
        for batch in crate::maps::read_parquet(path)? {
            let col = |name: &str| -> Result<Vec<Option<i64>>> {
                let a = batch
                    .column_by_name(name)
                    .ok_or_else(|| bad(0, format!("no column `{name}`")))?;
                Ok(match a.data_type() {
                    DataType::Int32 => a
                        .as_primitive::<Int32Type>()
                        .iter()
                        .map(|v| v.map(i64::from))
                        .collect(),
                    DataType::Int64 => a.as_primitive::<Int64Type>().iter().collect(),
                    other => {
                        return Err(bad(
                            0,
                            format!("column `{name}` is {other}, expected an integer"),
                        ))
                    }
                })
            };
            for (o, n) in col("old_id")?.into_iter().zip(col("new_id")?) {
                if let (Some(o), Some(n)) = (o, n) {
                    out.insert(o, n);
                }
            }
        }
        return Ok(out);
    }
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, "read", e))?;
    let mut out = HashMap::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || (i == 0 && line.eq_ignore_ascii_case("old_id,new_id")) {
            continue;
        }
        let (o, n) = line
            .split_once(',')
            .ok_or_else(|| bad(i + 1, format!("`{line}` is not `old_id,new_id`")))?;
        let parse = |s: &str| {
            s.trim()
                .parse::<i64>()
                .map_err(|_| bad(i + 1, format!("`{}` is not an integer ID", s.trim())))
        };
        if out.insert(parse(o)?, parse(n)?).is_some() {
            return Err(bad(i + 1, format!("old ID `{}` appears twice", o.trim())));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_maps_load_and_errors_name_the_line() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("m.csv");
        std::fs::write(&p, "old_id,new_id\n1,101\n2, 102\n").unwrap();
        let m = load(&p).unwrap();
        assert_eq!(m.get(&2), Some(&102));
        std::fs::write(&p, "old_id,new_id\n1,101\nx,3\n").unwrap();
        let e = load(&p).unwrap_err().to_string();
        assert!(e.contains("line 3") && e.contains("`x`"), "{e}");
        std::fs::write(&p, "1,2\n1,3\n").unwrap();
        assert!(load(&p).unwrap_err().to_string().contains("twice"));
    }
}
