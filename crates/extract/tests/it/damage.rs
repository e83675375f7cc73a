//! The extract checks what it reads of its own output, and writes a damaged file anew.

use std::path::Path;

use bptmig_extract::ROOTS_ENTRY_FILE;
use bptmig_model::catalog as c;
use bptmig_sandbox::EnvSpec;
use bptmig_workdir::{Manifest, WorkDir};

use crate::{assert_same_files, extract_files, setup};

/// Flips one byte in the middle of `path`; the size stays.
fn flip_a_byte(path: &Path) {
    let mut bytes = std::fs::read(path).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x20;
    std::fs::write(path, bytes).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_damaged_part_or_roots_file_is_extracted_again_to_the_same_bytes() {
    let test = setup(
        &EnvSpec::default(),
        "[extract]\npart_rows = 100\nrow_group_rows = 30\n",
    )
    .await;
    let config = &test.config;
    crate::extract(config).await.unwrap();
    let intact = extract_files(&config.workdir);
    let wd = WorkDir::new(&config.workdir);
    let extract_dir = wd.stage_dir("extract");
    assert!(extract_dir.join(ROOTS_ENTRY_FILE).is_file());

    // A finished extract with one byte changed in a part of the activities (the table the
    // outputs are scoped by): "run `bptmig extract` again" must repair it.
    let activities = wd.table_dir("extract", c::ACTIVITY);
    let parts = Manifest::read(&activities).unwrap().unwrap().parts;
    assert!(parts.len() > 3);
    flip_a_byte(&activities.join(&parts[1].file));
    let again = crate::extract(config).await.unwrap();
    assert!(!again.already_done);
    let act = again
        .tables
        .iter()
        .find(|t| t.table == c::ACTIVITY)
        .unwrap();
    assert_eq!(
        act.resumed_rows, parts[0].rows,
        "kept the part before the damage"
    );
    assert_same_files(&intact, &extract_files(&config.workdir));

    // The same while the stage is still running, in a process part (the level the
    // activities are scoped by).
    let processes = wd.table_dir("extract", c::PROCESS);
    let first = &Manifest::read(&processes).unwrap().unwrap().parts[0];
    flip_a_byte(&processes.join(&first.file));
    crate::mark_running(&config.workdir);
    crate::extract(config).await.unwrap();
    assert_same_files(&intact, &extract_files(&config.workdir));

    // Damaged roots: the selection starts over, and every table after it.
    flip_a_byte(&extract_dir.join("roots.parquet"));
    let again = crate::extract(config).await.unwrap();
    assert!(!again.already_done);
    assert!(again.tables.iter().all(|t| t.resumed_rows == 0));
    assert_same_files(&intact, &extract_files(&config.workdir));

    // A damaged snapshot file is written again.
    let snapshot = wd.snapshot_dir("target");
    let file = &Manifest::read(&snapshot).unwrap().unwrap().parts[0].file;
    flip_a_byte(&snapshot.join(file));
    assert!(!crate::extract(config).await.unwrap().already_done);
    assert_same_files(&intact, &extract_files(&config.workdir));

    // Intact, it is done; a roots file without its entry (an older work directory) is
    // taken as it is and its entry recorded.
    std::fs::remove_file(extract_dir.join(ROOTS_ENTRY_FILE)).unwrap();
    assert!(crate::extract(config).await.unwrap().already_done);
    let entry = |files: &std::collections::BTreeMap<std::path::PathBuf, Vec<u8>>| {
        let entry: bptmig_workdir::PartEntry =
            serde_json::from_slice(&files[Path::new(ROOTS_ENTRY_FILE)]).unwrap();
        (entry.file, entry.rows, entry.bytes, entry.sha256)
    };
    let now = extract_files(&config.workdir);
    assert_eq!(entry(&intact), entry(&now));
    let without_entry = |mut files: std::collections::BTreeMap<_, _>| {
        files.remove(Path::new(ROOTS_ENTRY_FILE));
        files
    };
    assert_same_files(&without_entry(intact), &without_entry(now));
}
