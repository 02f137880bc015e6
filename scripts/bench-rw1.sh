#!/usr/bin/env bash
# bench-rw1.sh -- time gameday's RW1 beside the two RW1 peers (../shared/bench/RW1.md).
#
# Builds gameday (cargo build --release) and the Rust peer (heap_rw1), installs
# simpy with pip if python3 cannot import it (without SimPy it carries on with
# the other two), then runs, interleaved, N times each:
#   gameday run scenarios/rw1.ron  (the general engine: RW1 as an ordinary
#                                   topology + scenario, judged like any run)
#   heap_rw1                       (hand-written BinaryHeap event loop)
#   simpy_rw1.py                   (SimPy 4)
# It prints the results of all three side by side (events, writes sent / acked /
# failed / lost, detected, promoted, first ack after fault, rto), marking any
# result that differs; the median in-loop wall_seconds and events/s of each
# (gameday's from its `-v` log on standard error: results.json holds no wall time)
# (each program times its event loop only); the median whole-process wall time
# of each (start-up, parsing, judging and reporting included); and the ratios
# gameday/heap_rw1 and simpy/gameday. Exits 1 if any result differs (between
# the programs, or between two runs of one program), 2 on a usage or build error.
#
# usage: scripts/bench-rw1.sh [--runs N] [--duration S]
#   --runs N       runs of each program, interleaved (default 3); timings are medians
#   --duration S   simulated seconds (default 3600, the scenario's own), passed to
#                  all three: gameday runs a temporary copy of scenarios/rw1.ron with
#                  the duration replaced. S must be > 600 (the fault is at 600 s and
#                  gameday rejects a fault at or after the end of the run) and a
#                  multiple of 1 us (the peers keep integer microseconds).
#   The peers' other parameters (--nodes-per-zone, --write-interval-ms, --fault-at)
#   are rejected: gameday's RW1 fixes them in topologies/rw1.ron (node counts) and
#   scenarios/rw1.ron (write interval, fault); use ../shared/bench/compare-peers.sh
#   to compare the peers alone on other parameters.
# environment: PYTHON (default python3), CARGO (default cargo), CARGO_TARGET_DIR
#   (honoured like cargo does), RW1_BENCH_DIR (default ../shared/bench beside the repo).
# SimPy takes ~25 s a run at the defaults; gameday and heap_rw1 about 1 s.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON="${PYTHON:-python3}"
CARGO="${CARGO:-cargo}"

die() { echo "bench-rw1: $*" >&2; exit 2; }

BENCH="$(cd "${RW1_BENCH_DIR:-$ROOT/../shared/bench}" 2>/dev/null && pwd)" ||
  die "no RW1 bench folder at ${RW1_BENCH_DIR:-$ROOT/../shared/bench} (set RW1_BENCH_DIR)"
PEERS="$BENCH/peers"

runs=3
duration=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --runs) runs="${2:?--runs needs a value}"; shift 2 ;;
    --runs=*) runs="${1#*=}"; shift ;;
    --duration) duration="${2:?--duration needs a value}"; shift 2 ;;
    --duration=*) duration="${1#*=}"; shift ;;
    --nodes-per-zone|--nodes-per-zone=*|--write-interval-ms|--write-interval-ms=*|--fault-at|--fault-at=*)
      die "${1%%=*} is not supported: gameday's RW1 fixes it in its files (node counts in" \
          "topologies/rw1.ron, the write interval and the fault in scenarios/rw1.ron); only" \
          "--duration is passed to all three. Compare the peers alone with $BENCH/compare-peers.sh." ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) die "unknown argument '$1' (see --help)" ;;
  esac
done
[[ "$runs" =~ ^[1-9][0-9]*$ ]] || die "--runs must be a positive integer"
if [[ -n "$duration" ]]; then
  [[ "$duration" =~ ^[0-9]+(\.[0-9]{1,6})?$ ]] ||
    die "--duration must be a number of seconds, a multiple of 1 us (e.g. 700 or 700.25)"
  awk -v d="$duration" 'BEGIN { exit !(d > 600) }' ||
    die "--duration must be > 600: the fault is at 600 s, and gameday rejects a fault at or after the end"
fi
[[ -f "$PEERS/simpy_rw1.py" && -f "$PEERS/heap_rw1/Cargo.toml" ]] ||
  die "no RW1 peers under $PEERS (set RW1_BENCH_DIR)"

# cargo resolves a relative CARGO_TARGET_DIR against its working directory: build from ROOT.
abs_target() { [[ "$1" = /* ]] && echo "$1" || echo "$ROOT/$1"; }
echo "building gameday (cargo build --release) ..." >&2
(cd "$ROOT" && "$CARGO" build --release --quiet) || die "cargo build --release failed"
echo "building heap_rw1 (cargo build --release) ..." >&2
(cd "$ROOT" && "$CARGO" build --release --quiet --manifest-path "$PEERS/heap_rw1/Cargo.toml") ||
  die "building heap_rw1 failed"
if [[ -n "${CARGO_TARGET_DIR:-}" ]]; then
  gd_bin="$(abs_target "$CARGO_TARGET_DIR")/release/gameday"
  heap_bin="$(abs_target "$CARGO_TARGET_DIR")/release/heap_rw1"
else
  gd_bin="$ROOT/target/release/gameday"
  heap_bin="$PEERS/heap_rw1/target/release/heap_rw1"
fi
[[ -x "$gd_bin" ]] || die "no binary at $gd_bin"
[[ -x "$heap_bin" ]] || die "no binary at $heap_bin"

have_simpy=1
if ! "$PYTHON" -c 'import simpy' 2>/dev/null; then
  echo "'$PYTHON' cannot import simpy: installing it ($PYTHON -m pip install -r $PEERS/requirements.txt) ..." >&2
  if ! "$PYTHON" -m pip install --quiet -r "$PEERS/requirements.txt" ||
     ! "$PYTHON" -c 'import simpy' 2>/dev/null; then
    echo "bench-rw1: could not install simpy; continuing WITHOUT the SimPy peer" >&2
    have_simpy=0
  fi
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# The scenario gameday runs, and the arguments the peers get.
scenario="$ROOT/scenarios/rw1.ron"
peer_args=()
if [[ -n "$duration" ]]; then
  peer_args=(--duration "$duration")
  "$PYTHON" - "$scenario" "$ROOT/topologies/rw1.ron" "$duration" "$tmp/rw1.ron" <<'EOF' ||
import json, re, sys
src, topo, duration, dst = sys.argv[1:]
text = open(src).read()
# Only the scenario's own fields (four-space indent at the top level of `Scenario(`).
text, n_dur = re.subn(r'(?m)^(\s*)duration:\s*"[^"]*"', lambda m: f'{m.group(1)}duration: "{duration}s"', text, count=1)
text, n_top = re.subn(r'(?m)^(\s*)topology:\s*"rw1"', lambda m: f'{m.group(1)}topology: {json.dumps(topo)}', text, count=1)
if n_dur != 1 or n_top != 1:
    sys.exit(f"bench-rw1: {src} has no top-level `duration:` or `topology: \"rw1\"` line to replace")
open(dst, "w").write(text)
EOF
    die "could not write the temporary scenario"
  scenario="$tmp/rw1.ron"
fi

# gameday's JSON report and `-v` log -> the peers' `name: value` lines (RW1.md, "Results").
# The loop's wall time is in the log's "run finished" line, never in results.json.
gameday_to_peer() {
  "$PYTHON" - "$1" "$2" <<'EOF'
import json, re, sys
s = json.load(open(sys.argv[1]))["scenarios"][0]
r = s["per_run"][0]
log = re.sub(r"\x1b\[[0-9;]*m", "", open(sys.argv[2]).read())
wall = [float(x) for x in re.findall(r"run finished.*wall_seconds=([0-9.eE+-]+)", log)]
if len(wall) != 1:
    sys.exit("no single 'run finished' line with wall_seconds in the -v log")
r["wall_seconds"] = wall[0]
t = lambda v: "none" if v is None else f"{v:.6f}"
w = r["writes"]
for name, value in [
    ("events", r["events"]),
    ("writes_sent", w["sent"]),
    ("writes_acked", w["acked"]),
    ("writes_failed", w["failed"]),
    ("acked_writes_lost", w["acked_lost"]),
    ("detected_at", t(r["detected_s"])),
    ("promoted_at", t(r["promoted_s"])),
    ("first_ack_after_fault", t(r["first_success_s"])),
    ("rto", t(r["first_success_rto_s"])),
    ("wall_seconds", f'{r["wall_seconds"]:.6f}'),
    ("events_per_second", round(r["events"] / r["wall_seconds"]) if r["wall_seconds"] > 0 else "nan"),
]:
    print(f"{name}: {value}")
EOF
}

progs=(gameday heap)
[[ $have_simpy -eq 1 ]] && progs+=(simpy)
label() { case "$1" in gameday) echo gameday ;; heap) echo heap_rw1 ;; simpy) echo simpy_rw1 ;; esac; }

# run_timed NAME I CMD...: runs CMD with stdout to $tmp/NAME.I, whole-process wall time to $tmp/NAME.I.proc
run_timed() {
  local name="$1" i="$2"; shift 2
  local t0="$EPOCHREALTIME"
  "$@" > "$tmp/$name.$i.raw" 2> "$tmp/$name.$i.err" ||
    { cat "$tmp/$name.$i.err" >&2; die "$(label "$name") failed (run $i): $*"; }
  local t1="$EPOCHREALTIME"
  awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.6f\n", b - a }' > "$tmp/$name.$i.proc"
}

params="duration ${duration:-3600 (scenario default)}"
echo "params: $params   runs: $runs (interleaved: $(for p in "${progs[@]}"; do label "$p"; done | paste -sd' ' | sed 's/ /, /g'))"
if [[ $have_simpy -eq 1 ]]; then
  echo "simpy $("$PYTHON" -c 'import simpy; print(simpy.__version__)') on $("$PYTHON" -c 'import platform; print(platform.python_implementation(), platform.python_version())')"
else
  echo "simpy: NOT AVAILABLE (pip install failed); comparing gameday with heap_rw1 only"
fi
echo "machine: $(nproc) cpus, $(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ *//'), load at start: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null)"

for ((i = 1; i <= runs; i++)); do
  echo "run $i/$runs: gameday ..." >&2
  run_timed gameday "$i" "$gd_bin" -v run "$scenario" --format json --quiet --out "$tmp/gameday.$i.out"
  gameday_to_peer "$tmp/gameday.$i.out/results.json" "$tmp/gameday.$i.err" > "$tmp/gameday.$i" ||
    die "could not read gameday's results.json and -v log (run $i)"
  echo "run $i/$runs: heap_rw1 ..." >&2
  run_timed heap "$i" "$heap_bin" "${peer_args[@]}"
  cp "$tmp/heap.$i.raw" "$tmp/heap.$i"
  if [[ $have_simpy -eq 1 ]]; then
    echo "run $i/$runs: simpy_rw1 ..." >&2
    run_timed simpy "$i" "$PYTHON" "$PEERS/simpy_rw1.py" "${peer_args[@]}"
    cp "$tmp/simpy.$i.raw" "$tmp/simpy.$i"
  fi
done
echo "load at end: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null)"

timing='^(wall_seconds|events_per_second):'
status=0
# Each program is deterministic: all its runs must print the same results.
for p in "${progs[@]}"; do
  for ((i = 2; i <= runs; i++)); do
    if ! diff <(grep -Ev "$timing" "$tmp/$p.1") <(grep -Ev "$timing" "$tmp/$p.$i") >/dev/null; then
      echo "!! $(label "$p") run $i printed different results from run 1" >&2
      status=1
    fi
  done
done

# median VALUES...: the median of numbers
median() {
  printf '%s\n' "$@" | sort -g |
    awk '{ v[NR] = $1 } END { if (NR == 0) print "nan";
           else if (NR % 2) print v[(NR + 1) / 2];
           else printf "%.6f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
# values NAME PROG: one result's value in each run
values() { local i; for ((i = 1; i <= runs; i++)); do sed -n "s/^$1: //p" "$tmp/$2.$i"; done; }
proc_times() { local i; for ((i = 1; i <= runs; i++)); do cat "$tmp/$1.$i.proc"; done; }

echo
hdr=(result)
for p in "${progs[@]}"; do hdr+=("$(label "$p")"); done
printf '%-24s' "${hdr[0]}"; printf ' %-20s' "${hdr[@]:1}"; echo
for name in events writes_sent writes_acked writes_failed acked_writes_lost \
            detected_at promoted_at first_ack_after_fault rto; do
  printf '%-24s' "$name"
  ref="$(sed -n "s/^$name: //p" "$tmp/gameday.1")"
  differs=()
  for p in "${progs[@]}"; do
    v="$(sed -n "s/^$name: //p" "$tmp/$p.1")"
    printf ' %-20s' "${v:-(missing)}"
    if [[ -z "$v" || "$v" != "$ref" ]]; then differs+=("$(label "$p")"); fi
  done
  if [[ -z "$ref" || ${#differs[@]} -gt 0 ]]; then
    echo " DIFFERS (from gameday: ${differs[*]:-gameday missing})"; status=1
  else
    echo " ok"
  fi
done

declare -A wall eps proc
for p in "${progs[@]}"; do
  mapfile -t w < <(values wall_seconds "$p"); wall[$p]="$(median "${w[@]}")"
  mapfile -t e < <(values events_per_second "$p"); eps[$p]="$(median "${e[@]}")"
  mapfile -t t < <(proc_times "$p"); proc[$p]="$(median "${t[@]}")"
done
row() {
  local title="$1"; shift
  printf '%-24s' "$title"
  for v in "$@"; do printf ' %-20s' "$v"; done
  echo
}
echo
row "loop wall_seconds" $(for p in "${progs[@]}"; do echo "${wall[$p]}"; done)
row "loop events/s" $(for p in "${progs[@]}"; do printf '%.0f\n' "${eps[$p]}"; done)
row "process wall seconds" $(for p in "${progs[@]}"; do echo "${proc[$p]}"; done)
if [[ "$runs" -gt 1 ]]; then
  echo "(medians of $runs runs; each run's loop wall_seconds / process wall seconds:"
  for p in "${progs[@]}"; do
    printf '   %-10s %s/ %s\n' "$(label "$p")" "$(values wall_seconds "$p" | tr '\n' ' ')" "$(proc_times "$p" | tr '\n' ' ')"
  done
  echo ")"
fi
echo
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else printf "n/a" }'; }
echo "gameday / heap_rw1:  loop wall $(ratio "${wall[gameday]}" "${wall[heap]}")   process wall $(ratio "${proc[gameday]}" "${proc[heap]}")   (how much slower the general engine is)"
if [[ $have_simpy -eq 1 ]]; then
  echo "simpy / gameday:     loop wall $(ratio "${wall[simpy]}" "${wall[gameday]}")   process wall $(ratio "${proc[simpy]}" "${proc[gameday]}")   (how much faster gameday is than SimPy)"
else
  echo "simpy / gameday:     n/a (no SimPy)"
fi
if [[ $status -eq 0 ]]; then
  echo "results agree"
else
  echo "RESULTS DIFFER"
fi
exit $status
