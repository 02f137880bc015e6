//! Where reports go, and how they get there without ever leaving a mix of two runs.
//!
//! A report directory is checked and its staging directory created before anything is
//! simulated, so an unwritable `--out` costs nothing. The report is written into the staging
//! directory, beside the target (`.NAME.staging-PID`), and swapped in by two renames: the old
//! report moves aside (`.NAME.old-PID`), the new one takes its name, the old one is deleted.
//! A run killed at any point leaves the previous complete report, or none, and a later run
//! deletes what it left beside it. A write error (a full disk) deletes the staging directory
//! and leaves the previous report as it was. The target then holds exactly what this run
//! wrote: no chart of another run survives in `charts/`.
//!
//! gameday deletes only directories it wrote: a report carries a [`MARKER`] file (reports
//! from before the marker are recognised by their `results.json`, `compare.json` or
//! `sweep.json`), and an existing non-empty directory without one is refused. A single file
//! (the JUnit XML) is written to a temporary name beside it and renamed.

use crate::report::write_synced;
use std::fs::File;
use std::path::{Path, PathBuf};

/// The file that marks a directory as a gameday report, which a later run may replace.
pub const MARKER: &str = ".gameday-report";
/// Files that mark a report written before [`MARKER`] existed.
const LEGACY: &[&str] = &["results.json", "compare.json", "sweep.json"];

/// An output problem, with the path it concerns.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    #[error("cannot write {path}: {reason}")]
    Io { path: PathBuf, reason: String },
    #[error(
        "{path} is not a gameday report (no {MARKER} or results.json in it): refusing to replace it; choose another --out or empty it"
    )]
    Foreign { path: PathBuf },
    #[error("{path} is not a directory name to write a report to")]
    NoName { path: PathBuf },
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> OutputError + '_ {
    move |e| OutputError::Io {
        path: path.to_path_buf(),
        reason: e.to_string(),
    }
}

/// Whether `dir` holds a gameday report (or is empty): what a run may replace.
fn replaceable(dir: &Path) -> std::io::Result<bool> {
    let mut entries = std::fs::read_dir(dir)?.peekable();
    if entries.peek().is_none() {
        return Ok(true);
    }
    Ok(dir.join(MARKER).is_file() || LEGACY.iter().any(|f| dir.join(f).is_file()))
}

/// Whether process `pid` still runs (on systems without `/proc`, none is assumed to).
fn alive(pid: u32) -> bool {
    Path::new("/proc/self").exists() && Path::new("/proc").join(pid.to_string()).exists()
}

/// A report being written: the staging directory beside `target`, swapped in by
/// [`Staging::commit`]; dropped uncommitted, it is deleted.
#[derive(Debug)]
pub struct Staging {
    target: PathBuf,
    dir: PathBuf,
    old: PathBuf,
    committed: bool,
}

impl Staging {
    /// Checks that `target` may be replaced, deletes what killed runs left beside it, and
    /// creates the staging directory with its marker: every output problem shows here,
    /// before anything is simulated.
    pub fn new(target: &Path) -> Result<Staging, OutputError> {
        let name = target
            .file_name()
            .filter(|n| *n != "." && *n != "..")
            .ok_or_else(|| OutputError::NoName {
                path: target.to_path_buf(),
            })?
            .to_string_lossy()
            .into_owned();
        let parent = match target.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        if target.exists() && (!target.is_dir() || !replaceable(target).map_err(io(target))?) {
            return Err(OutputError::Foreign {
                path: target.to_path_buf(),
            });
        }
        std::fs::create_dir_all(&parent).map_err(|e| OutputError::Io {
            path: target.to_path_buf(),
            reason: format!("cannot create {}: {e}", parent.display()),
        })?;
        clean_stale(&parent, &name);
        let pid = std::process::id();
        let staging = Staging {
            target: target.to_path_buf(),
            dir: parent.join(format!(".{name}.staging-{pid}")),
            old: parent.join(format!(".{name}.old-{pid}")),
            committed: false,
        };
        for leftover in [&staging.dir, &staging.old] {
            if leftover.is_dir() && replaceable(leftover).unwrap_or(false) {
                std::fs::remove_dir_all(leftover).map_err(io(leftover))?;
            }
        }
        std::fs::create_dir(&staging.dir).map_err(io(target))?;
        let marker = "a gameday report: a later gameday run may replace this directory\n";
        write_synced(&staging.dir.join(MARKER), marker.as_bytes()).map_err(io(target))?;
        Ok(staging)
    }

    /// Where the report is being written.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The directory the report will have once committed.
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// Writes `name` (a file name, or a path such as `charts/x.svg`) into the staging
    /// directory.
    pub fn write(&self, name: &str, bytes: &[u8]) -> Result<(), OutputError> {
        let path = self.dir.join(name);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(io(&self.target))?;
        }
        write_synced(&path, bytes).map_err(io(&self.target))
    }

    /// Swaps the staged report in place of the target, and deletes the previous report.
    pub fn commit(mut self) -> Result<(), OutputError> {
        let had_old = self.target.exists();
        if had_old {
            std::fs::rename(&self.target, &self.old).map_err(io(&self.target))?;
        }
        if let Err(e) = std::fs::rename(&self.dir, &self.target) {
            if had_old {
                let _ = std::fs::rename(&self.old, &self.target);
            }
            return Err(io(&self.target)(e));
        }
        self.committed = true;
        if had_old {
            // A failure here leaves only a stale `.old` directory, deleted by the next run.
            let _ = std::fs::remove_dir_all(&self.old);
        }
        Ok(())
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// Deletes the staging and old directories of `name` that killed runs left in `parent`:
/// those of processes no longer running, and only when they hold a report.
fn clean_stale(parent: &Path, name: &str) {
    let Ok(entries) = std::fs::read_dir(parent) else {
        return;
    };
    let prefixes = [format!(".{name}.staging-"), format!(".{name}.old-")];
    for entry in entries.flatten() {
        let file = entry.file_name().to_string_lossy().into_owned();
        let pid = prefixes
            .iter()
            .find_map(|p| file.strip_prefix(p.as_str()))
            .and_then(|pid| pid.parse::<u32>().ok());
        let Some(pid) = pid else { continue };
        let path = entry.path();
        if !alive(pid) && path.is_dir() && replaceable(&path).unwrap_or(false) {
            let _ = std::fs::remove_dir_all(&path);
        }
    }
}

/// A single file written under a temporary name beside it and renamed when complete. The
/// temporary file is created at once, so an unwritable path shows before anything runs.
#[derive(Debug)]
pub struct AtomicFile {
    path: PathBuf,
    temp: PathBuf,
    committed: bool,
}

impl AtomicFile {
    pub fn new(path: &Path) -> Result<AtomicFile, OutputError> {
        let name = path
            .file_name()
            .ok_or_else(|| OutputError::NoName {
                path: path.to_path_buf(),
            })?
            .to_string_lossy()
            .into_owned();
        let dir = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        std::fs::create_dir_all(&dir).map_err(|e| OutputError::Io {
            path: path.to_path_buf(),
            reason: format!("cannot create {}: {e}", dir.display()),
        })?;
        let temp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
        File::create(&temp).map_err(io(path))?;
        Ok(AtomicFile {
            path: path.to_path_buf(),
            temp,
            committed: false,
        })
    }

    /// Writes the whole contents and renames the file into place.
    pub fn commit(mut self, bytes: &[u8]) -> Result<(), OutputError> {
        write_synced(&self.temp, bytes).map_err(io(&self.path))?;
        std::fs::rename(&self.temp, &self.path).map_err(io(&self.path))?;
        self.committed = true;
        Ok(())
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_file(&self.temp);
        }
    }
}

/// The longest default directory name made by joining three or more scenario names.
const JOINED_CHARS_MAX: usize = 60;

/// The default report directory: `reports/suite` for the built-in suite, `reports/NAME` for
/// one scenario, and for several their names joined with `+`, shortened to the first two,
/// the count of the others and a hash of all when that is too long for a file name.
pub fn default_dir(names: &[&str], builtin: bool) -> PathBuf {
    let reports = PathBuf::from("reports");
    if builtin {
        return reports.join("suite");
    }
    let joined = names.join("+");
    // Two names always fit a file name (each is at most `NAME_CHARS_MAX` characters); more
    // are joined while the result stays short enough to read in a listing.
    if names.len() <= 2 || joined.chars().count() <= JOINED_CHARS_MAX {
        return reports.join(joined);
    }
    // FNV-1a of every name: two different sets with the same first names get two directories.
    let hash = names
        .iter()
        .flat_map(|n| n.bytes().chain([0]))
        .fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ b as u64).wrapping_mul(0x0000_0100_0000_01b3)
        });
    reports.join(format!(
        "{}+{}+{}-more-{:08x}",
        names[0],
        names[1],
        names.len() - 2,
        hash as u32
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fresh directory under the system's temporary one.
    fn fresh(tag: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("gameday-output-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn a_committed_report_replaces_the_previous_one_whole() {
        let root = fresh("commit");
        let target = root.join("r");
        let first = Staging::new(&target).unwrap();
        first.write("results.json", b"1").unwrap();
        first.write("charts/a.svg", b"a").unwrap();
        first.commit().unwrap();
        let second = Staging::new(&target).unwrap();
        second.write("results.json", b"2").unwrap();
        second.commit().unwrap();
        assert_eq!(names(&target), [MARKER, "results.json"]);
        assert_eq!(std::fs::read(target.join("results.json")).unwrap(), b"2");
        assert_eq!(names(&root), ["r"], "nothing left beside it");
    }

    #[test]
    fn a_failed_write_leaves_the_previous_report_as_it_was() {
        let root = fresh("fail");
        let target = root.join("r");
        let first = Staging::new(&target).unwrap();
        first.write("results.json", b"1").unwrap();
        first.commit().unwrap();
        let second = Staging::new(&target).unwrap();
        second
            .write("charts", b"a file where a directory goes")
            .unwrap();
        assert!(second.write("charts/a.svg", b"a").is_err());
        drop(second);
        assert_eq!(names(&target), [MARKER, "results.json"]);
        assert_eq!(std::fs::read(target.join("results.json")).unwrap(), b"1");
        assert_eq!(names(&root), ["r"], "the staging directory is gone");
    }

    #[test]
    fn a_directory_that_is_not_a_report_is_refused() {
        let root = fresh("foreign");
        std::fs::write(root.join("notes.txt"), "mine").unwrap();
        let err = Staging::new(&root).unwrap_err();
        assert!(matches!(err, OutputError::Foreign { .. }), "{err}");
        assert_eq!(names(&root), ["notes.txt"]);
        // A report from before the marker, and an empty directory, may be replaced.
        std::fs::write(root.join("results.json"), "{}").unwrap();
        assert!(Staging::new(&root).is_ok());
        let empty = fresh("empty");
        assert!(Staging::new(&empty).is_ok());
    }

    #[test]
    fn what_a_killed_run_left_is_deleted_if_it_is_a_report() {
        let root = fresh("stale");
        // A process id that cannot be running: above the kernel's limit.
        for dir in [".r.staging-4294967290", ".r.old-4294967291"] {
            std::fs::create_dir_all(root.join(dir)).unwrap();
            std::fs::write(root.join(dir).join(MARKER), "").unwrap();
        }
        std::fs::create_dir_all(root.join(".r.staging-4294967292")).unwrap();
        std::fs::write(root.join(".r.staging-4294967292/notes.txt"), "").unwrap();
        Staging::new(&root.join("r")).unwrap().commit().unwrap();
        assert_eq!(names(&root), [".r.staging-4294967292", "r"]);
    }

    #[test]
    fn an_atomic_file_appears_whole_or_not_at_all() {
        let root = fresh("atomic");
        let path = root.join("junit.xml");
        let f = AtomicFile::new(&path).unwrap();
        assert!(!path.exists());
        drop(f);
        assert!(names(&root).is_empty(), "the temporary file is gone");
        AtomicFile::new(&path).unwrap().commit(b"<x/>").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"<x/>");
        assert_eq!(names(&root), ["junit.xml"]);
    }

    #[test]
    fn several_scenarios_get_a_directory_of_their_own() {
        assert_eq!(default_dir(&[], true), PathBuf::from("reports/suite"));
        assert_eq!(
            default_dir(&["zone-loss"], false),
            PathBuf::from("reports/zone-loss")
        );
        assert_eq!(
            default_dir(&["zone-loss", "region-loss"], false),
            PathBuf::from("reports/zone-loss+region-loss")
        );
        let many = [
            "zone-loss",
            "table-corruption",
            "region-loss",
            "cloud-provider-outage",
            "redis-region-loss",
            "redis-zone-loss",
        ];
        let dir = default_dir(&many, false).display().to_string();
        assert!(
            dir.starts_with("reports/zone-loss+table-corruption+4-more-"),
            "{dir}"
        );
        assert_ne!(
            default_dir(&many[..5], false),
            default_dir(&many[1..], false)
        );
    }
}
