//! The command line: `gameday run`, `gameday check`, `gameday validate`, `compare`, `sweep`.
//!
//! Exit status: 0 when everything ran (and, for `check`, every target was met); 1 when `check`
//! found a missed target or a safety violation; 2 on bad input or usage, or when the report
//! cannot be written (an unwritable `--out`, a directory that is not a report, a full disk);
//! 3 when a run was stopped by its event or memory budget, so its results are incomplete
//! (for every command that runs scenarios; it wins over 1). Input errors are printed as one
//! line naming the file, line, column and offending name; each stopped run as one line naming
//! the scenario, the seed, the budget and the simulated time. Everything is checked before
//! anything is simulated: the files, each run's least cost against its budgets
//! (`model::cost`), and the report directory (`output`).

mod compare;
pub mod output;
pub mod suite;

use crate::model::InputError;
use crate::model::scenario::{ParsedScenario, Scenario};
use crate::model::topology::Topology;
use crate::report::summary::summarize;
use crate::report::{SuiteReport, junit, text};
use crate::run::run_batch;
use crate::sim::kernel::Stopped;
use clap::{Parser, Subcommand, ValueEnum};
use output::{AtomicFile, Staging};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser, Debug)]
#[command(
    name = "gameday",
    version,
    about = "Deterministic chaos-engineering GameDay simulator: injects faults into a multi-region topology, runs real failover and replication logic under simulated time, and measures RTO/RPO from what simulated clients saw.",
    long_about = None,
    after_help = "With no command, runs the built-in GameDay suite on the reference topology `ftm-games` (zone loss, table corruption with backup restore, region loss by day and at 3 a.m., loss of the DCS region us-west-2, cloud-provider outage, Redis region and zone loss, RPC provider outage, RPC latency spike, chain halt, CDN origin loss, partition between regions) and writes results under reports/. The reference topology has an operations team: monitoring pages an on-call engineer who follows runbooks (manual failover, status-page posts), so RTOs include the human steps.\n\nExit status: 0 ran (and, for check, every scenario passed); 1 check found a missed target or a failed safety check; 2 bad input or usage, or the report could not be written; 3 a run was stopped by its event or memory budget (its results are incomplete; one line per stopped run on standard error).\n\nExamples:\n  gameday run scenarios/zone-loss.ron --runs 20\n  gameday check scenarios/*.ron --format json\n  gameday validate topologies/ftm-games.ron scenarios/region-loss.ron"
)]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// More log output (-v: info, -vv: debug with simulated times); RUST_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run scenarios and report measured RTO/RPO against their targets.
    Run(RunArgs),
    /// Like `run`, then exit 1 if any target is missed or any safety check fails (for CI).
    Check(RunArgs),
    /// Run the same scenarios and seeds on two topologies and show the differences.
    Compare(CompareArgs),
    /// Vary one topology parameter over values and show RTO/RPO against it.
    Sweep(SweepArgs),
    /// Check topology and scenario files without running them.
    Validate {
        /// Topology or scenario files (RON).
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
}

#[derive(Parser, Debug)]
struct RunArgs {
    /// Scenario files (RON). None: the built-in suite on the reference topology.
    scenarios: Vec<PathBuf>,
    /// Topology file to run the scenarios on, instead of the one each scenario names.
    #[arg(long)]
    topology: Option<PathBuf>,
    #[command(flatten)]
    opts: RunOptions,
    /// Directory for the report (results.json, summary.txt, summary.md, index.html, charts/),
    /// replaced whole. Default: reports/<scenario name>; for several files their names joined
    /// with `+`; reports/suite for the built-in suite.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Also write JUnit XML here: one test suite per scenario, one test case per gate or
    /// target (with the measured figure in the failure message) and one for the safety checks.
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,
}

/// How scenarios are run and shown: shared by `run`, `check`, `compare` and `sweep`.
#[derive(clap::Args, Debug)]
struct RunOptions {
    /// Master seed (default: each scenario's own `seed`).
    #[arg(long)]
    seed: Option<u64>,
    /// Monte Carlo runs per scenario, seeds derived from (seed, run index) (default: each
    /// scenario's own `runs`).
    #[arg(long)]
    runs: Option<u32>,
    /// Output format on standard output.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// No progress bar and no timing line on standard error.
    #[arg(long, short)]
    quiet: bool,
}

#[derive(Parser, Debug)]
struct CompareArgs {
    /// Scenario files (RON). None: the built-in suite.
    scenarios: Vec<PathBuf>,
    /// The two topologies, A then B: `--topology A.ron --topology B.ron`; or one, with B
    /// made from it by `--set-b`.
    #[arg(long = "topology", required = true, num_args = 1)]
    topologies: Vec<PathBuf>,
    /// Set a field of topology B, `PATH=VALUE` (paths as for `sweep --set`), for example
    /// `--set-b 'paging.automation=Some("runbook-automation")'` to compare manual and
    /// automated handling of the same faults. Repeatable.
    #[arg(long = "set-b", value_name = "PATH=VALUE")]
    set_b: Vec<String>,
    #[command(flatten)]
    opts: RunOptions,
    /// Directory for compare.json, compare.txt, the charts and index.html.
    #[arg(long, default_value = "reports/compare")]
    out: PathBuf,
}

#[derive(Parser, Debug)]
struct SweepArgs {
    /// Scenario files (RON). None: the built-in suite.
    scenarios: Vec<PathBuf>,
    /// The parameter and its values: `PATH=v1,v2,…` with PATH such as `dns.ttl`,
    /// `datastores[postgres].replication` or `apps[0].capacity.workers` (see docs/SCENARIOS.md).
    /// Values are RON; bare words such as `30s` are taken as strings. Separate values that
    /// contain commas with `;` instead.
    #[arg(long, required = true)]
    set: String,
    /// The topology to vary (default: each scenario's own).
    #[arg(long)]
    topology: Option<PathBuf>,
    #[command(flatten)]
    opts: RunOptions,
    /// Directory for sweep.json, sweep.txt, the charts and index.html.
    #[arg(long, default_value = "reports/sweep")]
    out: PathBuf,
}

#[derive(ValueEnum, Clone, Copy, Debug, Default, PartialEq, Eq)]
enum Format {
    #[default]
    Text,
    Json,
}

/// Entry point of the binary.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    init_tracing(cli.verbose);
    let result = match cli.command {
        None => run(RunArgs::parse_from(["run"]), false),
        Some(Command::Run(a)) => run(a, false),
        Some(Command::Check(a)) => run(a, true),
        Some(Command::Compare(a)) => compare::compare(a),
        Some(Command::Sweep(a)) => compare::sweep(a),
        Some(Command::Validate { files }) => validate(&files),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

fn init_tracing(verbose: u8) {
    let default = match verbose {
        0 => "warn",
        1 => "gameday=info",
        _ => "gameday=debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .without_time()
        .try_init();
}

/// Errors at the edge: input problems (exit 2) and output problems.
#[derive(Debug, thiserror::Error)]
enum CliError {
    #[error(transparent)]
    Input(#[from] InputError),
    #[error(transparent)]
    Write(#[from] output::OutputError),
    #[error("{0}")]
    Output(String),
}

/// The exit status of a command that ran scenarios: 3 when a budget stopped a run.
const STOPPED: u8 = 3;

/// The scenario files named, or the built-in suite.
fn parse_scenarios(files: &[PathBuf]) -> Result<Vec<ParsedScenario>, InputError> {
    if files.is_empty() {
        suite::builtin_scenarios()
    } else {
        files.iter().map(|p| ParsedScenario::load(p)).collect()
    }
}

/// Loads every scenario with its topology (or the override).
fn load(args: &RunArgs) -> Result<Vec<(Topology, Scenario)>, InputError> {
    let override_topo = args.topology.as_deref().map(Topology::load).transpose()?;
    load_with(&args.scenarios, override_topo.as_ref())
}

/// Loads scenarios, each on `topology` or, without it, on the topology it names.
fn load_with(
    files: &[PathBuf],
    override_topo: Option<&Topology>,
) -> Result<Vec<(Topology, Scenario)>, InputError> {
    let parsed = parse_scenarios(files)?;
    let mut out = Vec::new();
    for p in parsed {
        let topo = match override_topo {
            Some(t) => t.clone(),
            None => match suite::builtin_topology(&p)? {
                Some(t) => t,
                None => Topology::load(&p.topology_path()?)?,
            },
        };
        let s = p.resolve(&topo)?;
        out.push((topo, s));
    }
    Ok(out)
}

/// What [`execute`] ran: the report, and how many runs a budget stopped.
struct Executed {
    report: SuiteReport,
    stopped: usize,
}

/// Runs every loaded scenario (Monte Carlo batches in parallel), with a progress bar on a
/// terminal unless `quiet` or under CI. Each run a budget stopped gets a line on standard
/// error; unless `quiet`, so does the wall time, which the results never hold.
fn execute(loaded: &[(Topology, Scenario)], opts: &RunOptions) -> Result<Executed, CliError> {
    let (seed, runs, quiet) = (opts.seed, opts.runs, opts.quiet);
    let show_progress =
        !quiet && std::io::stderr().is_terminal() && std::env::var_os("CI").is_none();
    // Wall time is for the timing line on standard error only, never for the results.
    #[allow(clippy::disallowed_methods)]
    let wall = std::time::Instant::now();
    let (mut scenarios, mut stopped, mut events, mut total_runs) = (Vec::new(), 0, 0u64, 0u64);
    // The suite's headline seed and runs: the command line's, else the first scenario's.
    let master_seed = seed.or(loaded.first().map(|(_, s)| s.seed)).unwrap_or(1);
    let runs_shown = runs.or(loaded.first().map(|(_, s)| s.runs)).unwrap_or(1);
    for (topo, s) in loaded {
        let seed = seed.unwrap_or(s.seed);
        let runs = runs.unwrap_or(s.runs);
        if runs == 0 || runs > crate::model::limits::RUNS_MAX {
            return Err(CliError::Output(format!(
                "--runs must be between 1 and {}",
                crate::model::limits::RUNS_MAX
            )));
        }
        let bar = show_progress.then(|| progress_bar(&s.name, runs));
        let tick = || {
            if let Some(b) = &bar {
                b.inc(1);
            }
        };
        let results = run_batch(topo, s, seed, runs, &tick);
        if let Some(b) = bar {
            b.finish_and_clear();
        }
        for r in &results {
            events += r.events;
            if let Some(stop) = r.stopped {
                stopped += 1;
                eprintln!("{}", stopped_line(s, r.seed, stop, r.last_event_at));
            }
        }
        total_runs += results.len() as u64;
        scenarios.push(summarize(topo, s, seed, &results));
    }
    if !quiet {
        let secs = wall.elapsed().as_secs_f64();
        let plural = |n: u64, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
        eprintln!(
            "gameday: {}, {}, {} events in {secs:.1} s of wall time ({:.1} M events/s)",
            plural(loaded.len() as u64, "scenario"),
            plural(total_runs, "run"),
            crate::model::cost::thousands(events),
            events as f64 / secs.max(1e-9) / 1e6
        );
    }
    let report = SuiteReport {
        seed: master_seed,
        runs: runs_shown,
        scenarios,
    };
    Ok(Executed { report, stopped })
}

fn progress_bar(name: &str, runs: u32) -> indicatif::ProgressBar {
    let b = indicatif::ProgressBar::new(runs as u64);
    b.set_style(
        indicatif::ProgressStyle::with_template(
            "{msg:>20} [{bar:30}] {pos}/{len} runs, {elapsed} elapsed, eta {eta}",
        )
        .expect("static template")
        .progress_chars("=> "),
    );
    b.set_message(name.to_string());
    b
}

/// One line for a run a budget stopped: scenario, seed, which budget, when.
fn stopped_line(s: &Scenario, seed: u64, stop: Stopped, at: crate::sim::time::SimTime) -> String {
    use crate::model::cost::{bytes, thousands};
    let bound = match stop {
        Stopped::EventBudget => format!(
            "its event budget of {} events ran out",
            thousands(s.event_budget)
        ),
        Stopped::MemoryBudget { bytes: held } => format!(
            "it held {} (measured), more than its memory budget of {}",
            bytes(held),
            bytes(s.memory_budget)
        ),
    };
    format!(
        "gameday: scenario `{}`, seed {seed}: stopped at simulated time {at}: {bound}; its results are incomplete",
        s.name
    )
}

fn run(args: RunArgs, gate: bool) -> Result<ExitCode, CliError> {
    let loaded = load(&args)?;
    // Output is checked before anything is simulated.
    let out_dir = args.out.clone().unwrap_or_else(|| {
        let names: Vec<&str> = loaded.iter().map(|(_, s)| s.name.as_str()).collect();
        output::default_dir(&names, args.scenarios.is_empty())
    });
    let staging = Staging::new(&out_dir)?;
    let junit_file = args.junit.as_deref().map(AtomicFile::new).transpose()?;
    let Executed { report, stopped } = execute(&loaded, &args.opts)?;
    let json =
        serde_json::to_string_pretty(&report).map_err(|e| CliError::Output(e.to_string()))?;
    let table = text::render(&report);
    staging.write("results.json", json.as_bytes())?;
    staging.write("summary.txt", table.as_bytes())?;
    crate::report::html::write_report(staging.dir(), &report).map_err(|e| {
        CliError::Output(format!(
            "cannot write the report to {}: {e}",
            out_dir.display()
        ))
    })?;
    staging.commit()?;
    if let Some(f) = junit_file {
        f.commit(junit::render(&report).as_bytes())?;
    }
    // A closed pipe (`gameday run | head`) is not worth a panic: output errors are ignored.
    let mut stdout = std::io::stdout().lock();
    let _ = match args.opts.format {
        Format::Json => writeln!(stdout, "{json}"),
        Format::Text => write!(
            stdout,
            "{table}\nreport written to {} (results.json, summary.md, charts/)\n",
            out_dir.join("index.html").display()
        ),
    };
    Ok(if stopped > 0 {
        ExitCode::from(STOPPED)
    } else if gate && !report.passed() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn validate(files: &[PathBuf]) -> Result<ExitCode, CliError> {
    for f in files {
        let source = crate::model::Source::read(f)?;
        let head = source
            .text
            .trim_start_matches(|c: char| c.is_whitespace() || c == '/')
            .to_string();
        let is_topology = source.text.contains("Topology(") || head.starts_with("Topology");
        if is_topology {
            let t = Topology::from_source(source)?;
            let _ = writeln!(
                std::io::stdout(),
                "{}: topology `{}` is valid ({} nodes, {} datastores)",
                f.display(),
                t.name,
                t.node_names.len(),
                t.datastores.len()
            );
        } else {
            let p = ParsedScenario::from_source(source)?;
            let topo = match suite::builtin_topology(&p)? {
                Some(t) => t,
                None => Topology::load(&p.topology_path()?)?,
            };
            let s = p.resolve(&topo)?;
            let _ = writeln!(
                std::io::stdout(),
                "{}: scenario `{}` is valid on topology `{}` ({} faults)",
                f.display(),
                s.name,
                topo.name,
                s.faults.len()
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
