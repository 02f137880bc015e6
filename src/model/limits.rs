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
