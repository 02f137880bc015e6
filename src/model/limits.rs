//! Documented maxima for every input size: a run's memory and time stay bounded whatever a
//! file says, and an absurd number is reported as such instead of exhausting the machine.

/// Nodes in one topology, after expanding groups.
pub const NODES_MAX: usize = 200_000;
/// Nodes in one group (`count`).
pub const GROUP_COUNT_MAX: u32 = 100_000;
/// Zones in one topology (latency is kept as a zones × zones table).
pub const ZONES_MAX: usize = 2_000;
/// Members of one datastore (replica sets are 64-bit masks).
pub const MEMBERS_MAX: usize = 64;
/// Simulated duration of one run: 30 days.
pub const DURATION_MAX_SECS: u64 = 30 * 86_400;
/// Operations one client population may issue in a run (operation numbers are `u32`).
pub const OPS_PER_CLIENT_MAX: u64 = u32::MAX as u64 - 1;
/// Monte Carlo runs of one scenario.
pub const RUNS_MAX: u32 = 1_000_000;
/// Default event budget when a scenario sets none.
pub const EVENT_BUDGET_DEFAULT: u64 = 500_000_000;
/// DNS resolver caches per client population.
pub const CACHES_MAX: u32 = 4_096;
/// Faults in one scenario.
pub const FAULTS_MAX: usize = 10_000;
/// Parallel workers of one app server.
pub const WORKERS_MAX: u32 = 4_096;
/// Scrape targets over all monitoring servers (each server keeps `up` per target).
pub const SCRAPE_TARGETS_MAX: usize = 100_000;
/// Targets named by alerting rules, over all rules of all servers: each evaluation reads
/// each of them once, so this bounds both a server's memory and the work of one evaluation.
pub const RULE_TARGETS_MAX: usize = 100_000;
/// Counter samples kept by all monitoring servers for their baseline rules (each target a
/// baseline rule names keeps `baseline / scrape_interval + 2` of 24 bytes): 2 million is
/// 48 MB, room for a 1-day baseline over 300 load balancers scraped every 15 s (5,762
/// samples each).
pub const BASELINE_SAMPLES_MAX: u64 = 2_000_000;
/// Default memory budget of one run (a scenario's `memory_budget` changes it): 4 GiB. The
/// reference machine has 24 GiB and 2 cores, so a batch runs 2 runs at a time. The budget
/// counts what the run holds (client histories by length, the event queue, notes), and a
/// growing `Vec` may hold up to twice its length while it doubles, so 2 runs at the budget
/// use at most about 16 GiB, leaving a third of the machine to the system, another user's
/// work and the report. The largest shipped run (RW1) holds about 170 MB.
pub const MEMORY_BUDGET_DEFAULT: u64 = 4 << 30;
/// Shortest period of a protocol timer: heartbeats and failure checks (`loop_wait`), health
/// checks (`inter`/`interval`, DNS `request_interval`), sentinel pings (`ping_interval`) and
/// failover attempts (`failover_timeout`), block time, backup schedules, WAL archiving
/// (`archive_timeout`), integrity checks, metrics scrapes and the runbook's retries
/// (`answer_timeout`). Each firing is at least one event and most send a message per target, so
/// below a millisecond a check costs more events than the work it watches; no real system
/// probes faster (HAProxy's `inter` is in milliseconds, Route 53's fastest interval is 10 s).
pub const INTERVAL_MIN_NS: u64 = 1_000_000;
/// Shortest mean gap between two operations of one client workload: 1 µs, a million
/// operations a second from one population. Each operation is at least two events and a
/// 32-byte history record; below this a few seconds of simulated time exhaust any budget.
pub const CLIENT_INTERVAL_MIN_NS: u64 = 1_000;
/// Finest steady-state `resolution`: 1 ms. The SLI is computed per bucket of this width and
/// the finest timer it could tell apart is a protocol timer (see [`INTERVAL_MIN_NS`]).
pub const RESOLUTION_MIN_NS: u64 = 1_000_000;
/// Most steady-state buckets (`duration / resolution`) of one run: the longest run
/// ([`DURATION_MAX_SECS`]) at the default 1 s resolution. Every service keeps 16 bytes a
/// bucket for its success series (about 41 MB at this cap), the judge a few more while it
/// computes the SLI, and the first run's series is written to `results.json`.
pub const BUCKETS_MAX: u64 = DURATION_MAX_SECS;
/// Longest scenario or service name, in characters: names become directory and chart file
/// names (`reports/<scenario>`, `<scenario>-rto-dist-<service>.svg`), which most file systems
/// limit to 255 bytes.
pub const NAME_CHARS_MAX: usize = 100;
