#!/usr/bin/env bash
# Per-request counts of gateway binaries under the shared load harness's
# query: CPU time, system calls by kind, what the reads returned and the
# threads' voluntary and involuntary context switches, over a fixed number
# of requests (bin/loadgen, closed loop) after a warm-up. Counts per request
# move much less than RPS and latency when other work shares the machine.
# The binaries take turns, ROUNDS times. See docs/bench.md.
#
#   scripts/request-counts.sh [-h HARNESS_DIR] BINARY...   (default ../shared/bench)
#
# Needs perf with tracepoints (root, or kernel.perf_event_paranoid <= 1).
# Knobs: REQUESTS=4000 CONNS=50 WARMUP=3s ROUNDS=1 GW_PORT=4292 SG_PORT=4293
# GW_FLAGS=--dedupe=false GW_ENV= (e.g. GW_ENV=GOGC=off). Everything listens
# on 127.0.0.1; each process is started in its own session and stopped by
# its process-group id.
set -euo pipefail
cd "$(dirname "$0")/.."
harness=../shared/bench
if [ "${1:-}" = -h ]; then
	harness=$2
	shift 2
fi
[ $# -gt 0 ] || { sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
harness="$(cd "$harness" && pwd)"
REQUESTS=${REQUESTS:-4000} CONNS=${CONNS:-50} WARMUP=${WARMUP:-3s} ROUNDS=${ROUNDS:-1}
GW_PORT=${GW_PORT:-4292} SG_PORT=${SG_PORT:-4293} GW_FLAGS=${GW_FLAGS:---dedupe=false} GW_ENV=${GW_ENV:-}
bins=()
for b in "$@"; do bins+=("$(cd "$(dirname "$b")" && pwd)/$(basename "$b")"); done
work="$(mktemp -d)"
pids=()
stop() { for p in "${pids[@]}"; do kill -- "-$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap stop EXIT
trap 'exit 130' INT TERM

command -v perf >/dev/null || { echo "perf is required" >&2; exit 1; }
make --no-print-directory bin/loadgen >/dev/null
(cd "$harness/subgraphs" && go build -buildvcs=false -o "$work/subgraphs" .)
sed "s#127.0.0.1:4200#127.0.0.1:$SG_PORT#g" "$harness/supergraph.graphql" >"$work/supergraph.graphql"
setsid "$work/subgraphs" -addr "127.0.0.1:$SG_PORT" >"$work/subgraphs.log" 2>&1 &
pids+=($!)

url="http://127.0.0.1:$GW_PORT/graphql"
load() { bin/loadgen -url "$url" -query "$harness/query.graphql" -operation TestQuery -c "$CONNS" "$@"; }
# switches GW: the voluntary and involuntary context switches of GW's threads.
switches() { cat /proc/"$1"/task/*/status 2>/dev/null | awk '/^voluntary/ {v += $2} /^nonvoluntary/ {n += $2} END {print v + 0, n + 0}'; }
# The events in the order the report reads them; a --filter applies to the
# event before it.
events=(-e task-clock -e context-switches -e raw_syscalls:sys_enter
	-e syscalls:sys_enter_read -e syscalls:sys_exit_read --filter 'ret == -11'
	-e syscalls:sys_exit_read --filter 'ret == 4096' -e syscalls:sys_exit_read --filter 'ret > 4096'
	-e syscalls:sys_enter_write -e syscalls:sys_enter_writev -e syscalls:sys_enter_futex
	-e syscalls:sys_enter_epoll_pwait -e syscalls:sys_enter_nanosleep)

printf '%-24s %6s %7s %6s %5s %6s %5s %5s %6s %6s %6s %6s %6s %6s %6s %6s\n' binary round cpu_ms syscall read eagain r4096 rmore write writev futex epoll nsleep cs vol invol
for round in $(seq 1 "$ROUNDS"); do
	for bin in "${bins[@]}"; do
		# shellcheck disable=SC2086
		setsid env $GW_ENV "$bin" serve --supergraph "$work/supergraph.graphql" --config testdata/bench/harness.yaml \
			--listen "127.0.0.1:$GW_PORT" $GW_FLAGS >"$work/gateway.log" 2>&1 &
		gw=$!
		pids+=("$gw")
		if ! load -d "$WARMUP" -wait 30s >"$work/warmup.log" 2>&1; then
			echo "$bin: no answers; gateway log:" >&2
			tail -n 20 "$work/gateway.log" >&2
			exit 1
		fi
		read -r v0 n0 < <(switches "$gw")
		perf stat -x, "${events[@]}" -p "$gw" -o "$work/stat" &
		perfpid=$!
		sleep 0.5 # perf attaches
		load -max "$REQUESTS" -d 10m >"$work/run.log" 2>&1
		read -r v1 n1 < <(switches "$gw")
		kill -INT "$perfpid"
		wait "$perfpid" || true
		awk -F, -v n="$REQUESTS" -v name="$(basename "$bin")" -v round="$round" \
			-v vol=$((v1 - v0)) -v invol=$((n1 - n0)) '
			/^[0-9]/ { c[i++] = $1 }
			END {
				printf "%-24s %6d %7.3f %6.2f %5.2f %6.2f %5.2f %5.2f %6.2f %6.2f %6.2f %6.2f %6.2f %6.2f %6.2f %6.2f\n",
					name, round, c[0] / n, c[2] / n, c[3] / n, c[4] / n, c[5] / n, c[6] / n,
					c[7] / n, c[8] / n, c[9] / n, c[10] / n, c[11] / n, c[1] / n, vol / n, invol / n
			}' "$work/stat"
		kill -- "-$gw" 2>/dev/null || true
		wait "$gw" 2>/dev/null || true
	done
done
