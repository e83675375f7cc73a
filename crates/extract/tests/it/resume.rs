use bptmig_model::catalog as c;
use bptmig_sandbox::EnvSpec;
use bptmig_workdir::{Manifest, WorkDir};

use crate::{envs, pipeline_for};

fn manifests(workdir: &std::path::Path) -> Vec<(String, Manifest)> {
    let mut out = Vec::new();
    for t in [
        c::PROCESS,
        c::ACTIVITY,
        c::PROCESS_INPUT,
        c::PROCESS_OUTPUT,
        c::ACTIVITY_OUTPUT,
        "OSEVT_3ar_Candidate",
    ] {
        out.push((
            t.to_owned(),
            Manifest::read(&workdir.join("extract").join(t))
                .unwrap()
                .unwrap(),
        ));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupted_extract_resumes_to_identical_parts_and_a_finished_one_does_nothing() {
    let (prod, qa) = envs(&EnvSpec::default()).await;
    let extra = "[extract]\npart_rows = 100\nrow_group_rows = 30\n";

    let clean_dir = tempfile::tempdir().unwrap();
    let clean = pipeline_for(clean_dir.path(), &prod, &qa, extra);
    crate::extract(&clean).await.unwrap();

    // The same run, as a crash in the middle of ACTIVITY leaves it: later tables absent, the
    // last parts of ACTIVITY unlisted, a half-written part, the stage still running.
    let dir = tempfile::tempdir().unwrap();
    let config = pipeline_for(dir.path(), &prod, &qa, extra);
    crate::extract(&config).await.unwrap();
    let uninterrupted = manifests(&config.workdir);
    let wd = WorkDir::new(&config.workdir);
    crate::mark_running(&config.workdir);
    let adir = wd.table_dir("extract", c::ACTIVITY);
    let mut m = Manifest::read(&adir).unwrap().unwrap();
    assert!(m.parts.len() > 3);
    m.parts.truncate(2);
    m.complete = false;
    m.write(&adir).unwrap();
    std::fs::write(adir.join("part-00002.parquet.tmp"), b"half a part").unwrap();
    for t in [
        c::PROCESS_INPUT,
        c::PROCESS_OUTPUT,
        c::ACTIVITY_OUTPUT,
        "OSEVT_3ar_Candidate",
    ] {
        std::fs::remove_dir_all(wd.table_dir("extract", t)).unwrap();
    }

    let resumed = crate::extract(&config).await.unwrap();
    assert!(!resumed.already_done);
    let act = resumed
        .tables
        .iter()
        .find(|t| t.table == c::ACTIVITY)
        .unwrap();
    assert_eq!(act.resumed_rows, 200);
    assert!(!adir.join("part-00002.parquet.tmp").exists());

    // Byte-identical to what the same run wrote without the crash (same run id, same digests).
    assert_eq!(manifests(&config.workdir), uninterrupted);

    // And the same rows as a separate clean run (whose parts embed another run id).
    let a = manifests(&clean.workdir);
    let b = manifests(&config.workdir);
    for ((ta, ma), (_, mb)) in a.iter().zip(&b) {
        let shas = |m: &Manifest| {
            m.parts
                .iter()
                .map(|p| (p.file.clone(), p.rows, p.min_key, p.max_key))
                .collect::<Vec<_>>()
        };
        assert_eq!(shas(ma), shas(mb), "{ta}");
    }
    // Content equality, run ids aside: parts embed their run id, so compare rows.
    for (t, m) in &a {
        let dir_a = clean.workdir.join("extract").join(t);
        let dir_b = config.workdir.join("extract").join(t);
        for p in &m.parts {
            assert_eq!(
                crate::read_file(&dir_a.join(&p.file)),
                crate::read_file(&dir_b.join(&p.file)),
                "{t} {}",
                p.file
            );
        }
    }

    // A finished extract does nothing and says so.
    let before = manifests(&config.workdir);
    let again = crate::extract(&config).await.unwrap();
    assert!(again.already_done);
    assert_eq!(manifests(&config.workdir), before);
}
