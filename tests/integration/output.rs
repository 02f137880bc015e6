//! Output a CI gate can trust: checked before anything is simulated, swapped in whole, holding
//! only this run's files, and the same bytes for the same inputs and seed.

use crate::support::*;
use std::path::{Path, PathBuf};

/// A fresh, absent directory path under the system's temporary one.
fn fresh(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("gameday-output-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// zone-loss cut to 12 minutes (2 after the fault), renamed `name`, on the shipped topology.
fn short(name: &str) -> PathBuf {
    let text = scenario_text(
        "zone-loss",
        &root().join("topologies/ftm-games.ron"),
        &[
            ("duration: \"30m\"", "duration: \"12m\""),
            ("name: \"zone-loss\"", &format!("name: \"{name}\"")),
        ],
    );
    temp_file("output-in", &format!("{name}.ron"), &text)
}

/// Every file under `dir`, as paths relative to it, sorted.
fn files(dir: &Path) -> Vec<String> {
    fn walk(base: &Path, dir: &Path, out: &mut Vec<String>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(base, &p, out);
            } else {
                out.push(p.strip_prefix(base).unwrap().display().to_string());
            }
        }
    }
    let mut v = Vec::new();
    walk(dir, dir, &mut v);
    v.sort();
    v
}

fn run_into(scenario: &Path, out: &Path, extra: &[&str]) -> (i32, String) {
    let mut args = vec![
        "run",
        scenario.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--quiet",
    ];
    args.extend_from_slice(extra);
    let (code, _, err) = gameday(&args);
    (code, err)
}

#[test]
fn an_unwritable_out_fails_before_simulating_and_leaves_nothing() {
    let base = fresh("unwritable");
    std::fs::create_dir_all(&base).unwrap();
    let blocker = base.join("a-file");
    std::fs::write(&blocker, "not a directory").unwrap();
    let out = blocker.join("report");
    let junit = blocker.join("junit.xml");
    // 40 runs of zone-loss take far longer than the deadline: this must fail without them.
    for (flag, path) in [("--out", &out), ("--junit", &junit)] {
        let mut args = vec!["run", "scenarios/zone-loss.ron", "--runs", "40", "--quiet"];
        let other = base.join("elsewhere");
        if flag == "--junit" {
            args.extend(["--out", other.to_str().unwrap()]);
        }
        args.extend([flag, path.to_str().unwrap()]);
        let (code, _, err) = gameday_within(20, &args);
        assert_eq!(code, 2, "{err}");
        assert!(
            err.contains("cannot write") && err.contains(&path.display().to_string()),
            "{err}"
        );
        assert!(!other.exists(), "{flag}: the report's staging is gone");
    }
    assert_eq!(files(&base), ["a-file"], "nothing left");
}

#[test]
fn a_five_thousand_character_name_is_refused_at_validation() {
    let text = scenario_text(
        "zone-loss",
        &root().join("topologies/ftm-games.ron"),
        &[(
            "name: \"zone-loss\"",
            &format!("name: \"{}\"", "x".repeat(5000)),
        )],
    );
    let p = temp_file("output-in", "long-name.ron", &text);
    let (code, _, err) = gameday(&["validate", p.to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains(&format!("{}:7:11:", p.display())), "{err}");
    assert!(
        err.contains("at most 100 characters (this one has 5000)"),
        "{err}"
    );
    assert!(err.len() < 400, "the name is shortened: {err}");
    for bad in ["../../etc", "a/b", "a\\u{0}b"] {
        let text = text.replace(&"x".repeat(5000), bad);
        let p = temp_file("output-in", "bad-name.ron", &text);
        let (code, _, err) = gameday(&["validate", p.to_str().unwrap()]);
        assert_eq!(code, 2, "{bad}: {err}");
        assert!(
            err.contains("may hold only letters, digits"),
            "{bad}: {err}"
        );
    }
}

#[test]
fn a_directory_that_is_not_a_report_is_refused() {
    let out = fresh("foreign");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("thesis.tex"), "years of work").unwrap();
    let (code, err) = run_into(&short("foreign"), &out, &[]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("is not a gameday report"), "{err}");
    assert_eq!(files(&out), ["thesis.tex"]);
    assert_eq!(
        std::fs::read_to_string(out.join("thesis.tex")).unwrap(),
        "years of work"
    );
}

#[test]
fn a_report_directory_holds_exactly_the_last_runs_files() {
    let out = fresh("second");
    // The first run's scenario has charts the second's has not (its own names).
    let (code, err) = run_into(&short("first-run"), &out, &["--runs", "2"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        files(&out)
            .iter()
            .any(|f| f.starts_with("charts/first-run-"))
    );
    let (code, err) = run_into(&short("second-run"), &out, &[]);
    assert_eq!(code, 0, "{err}");
    // What the second run writes into a directory of its own.
    let alone = fresh("second-alone");
    let (code, err) = run_into(&short("second-run"), &alone, &[]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(files(&out), files(&alone));
    assert!(files(&out).contains(&".gameday-report".to_string()));
    let parent = out.parent().unwrap();
    let name = out.file_name().unwrap().to_string_lossy().into_owned();
    let beside: Vec<_> = std::fs::read_dir(parent)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|f| f.starts_with(&format!(".{name}.")))
        .collect();
    assert!(beside.is_empty(), "left beside the report: {beside:?}");
}

#[test]
fn what_a_killed_run_left_is_cleaned_up() {
    let out = fresh("stale");
    let parent = out.parent().unwrap();
    let name = out.file_name().unwrap().to_string_lossy().into_owned();
    // Directories of processes that cannot be running (ids above the kernel's limit).
    let stale = [
        parent.join(format!(".{name}.staging-4294967290")),
        parent.join(format!(".{name}.old-4294967291")),
    ];
    for d in &stale {
        std::fs::create_dir_all(d.join("charts")).unwrap();
        std::fs::write(d.join(".gameday-report"), "").unwrap();
        std::fs::write(d.join("results.json"), "{").unwrap();
    }
    let (code, err) = run_into(&short("stale"), &out, &[]);
    assert_eq!(code, 0, "{err}");
    for d in &stale {
        assert!(!d.exists(), "{} is still there", d.display());
    }
}

/// `results.json` of zone-loss, 12 minutes, 4 runs, with `threads` worker threads, and what
/// the run printed on standard error.
fn results(tag: &str, threads: &str) -> (Vec<u8>, String) {
    let out = fresh(tag);
    let scenario = short("same-bytes");
    let (code, _, err) = gameday_env(
        &[
            "run",
            scenario.to_str().unwrap(),
            "--runs",
            "4",
            "--out",
            out.to_str().unwrap(),
        ],
        &[("RAYON_NUM_THREADS", threads)],
    );
    assert_eq!(code, 0, "{err}");
    (std::fs::read(out.join("results.json")).unwrap(), err)
}

#[test]
fn the_same_inputs_give_the_same_results_bytes_on_any_thread_count() {
    let (one, err) = results("bytes-1", "1");
    let (again, _) = results("bytes-1-again", "1");
    let (two, _) = results("bytes-2", "2");
    assert!(one == again, "two runs on one thread differ");
    assert!(one == two, "one thread and two differ");
    // The wall time goes to standard error, and only there.
    assert!(!String::from_utf8_lossy(&one).contains("wall_seconds"));
    assert!(err.contains("s of wall time"), "{err}");
}

#[test]
fn several_scenarios_default_to_a_directory_of_their_own() {
    let a = short("output-a");
    let b = short("output-b");
    let dir = root().join("reports/output-a+output-b");
    let _ = std::fs::remove_dir_all(&dir);
    let suite = root().join("reports/suite/results.json");
    let before = std::fs::metadata(&suite).and_then(|m| m.modified()).ok();
    let (code, stdout, err) = gameday(&["run", a.to_str().unwrap(), b.to_str().unwrap(), "-q"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        stdout.contains("report written to reports/output-a+output-b/index.html"),
        "{stdout}"
    );
    let json = std::fs::read_to_string(dir.join("results.json")).unwrap();
    assert!(json.contains("\"output-a\"") && json.contains("\"output-b\""));
    let after = std::fs::metadata(&suite).and_then(|m| m.modified()).ok();
    assert_eq!(before, after, "reports/suite is the built-in suite's");
    std::fs::remove_dir_all(&dir).unwrap();
}
