#!/usr/bin/env bash
# Measures what `make run` costs before its first answer: it runs the same
# command (go run ./cmd/gateway demo) on a free loopback port, with an empty
# build cache (cold; the module cache is kept, as after `go mod download`)
# and then again with that cache filled (warm), and prints the seconds
# until a GraphQL query is answered. The gateway is stopped by its pid.
#
#   scripts/first-answer.sh [PORT]      (default 4979)
set -euo pipefail
cd "$(dirname "$0")/.."
port=${1:-4979}
cache=$(mktemp -d)
pid=
cleanup() {
	if [ -n "$pid" ]; then
		kill -- -"$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	fi
	rm -rf "$cache" "$cache.times"
}
trap cleanup EXIT

first_answer() {
	local start=$SECONDS
	# setsid: the gateway (go run's child) is in the group we stop.
	GOCACHE=$cache setsid go run ./cmd/gateway demo --listen "127.0.0.1:$port" >"$cache.log" 2>&1 &
	pid=$!
	until curl -sf -o /dev/null "http://127.0.0.1:$port/graphql" -H 'Content-Type: application/json' \
		-d '{"query":"{ topProducts(first: 1) { name } }"}'; do
		if ! kill -0 "$pid" 2>/dev/null; then
			echo "go run exited:"; cat "$cache.log"; exit 1
		fi
		if ((SECONDS - start > 900)); then
			echo "no answer after 900 s"; exit 1
		fi
		sleep 0.5
	done
	local wall=$((SECONDS - start))
	kill -- -"$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	pid=
	rm -f "$cache.log"
	# CPU time of go run and the compiler and linker it waited for (less
	# sensitive than wall time to what else the machine runs).
	local cpu
	times >"$cache.times"
	cpu=$(children_cpu)
	echo "$1: first answer after $wall s; $((cpu - cpu_before)) CPU seconds"
	cpu_before=$cpu
}

# children_cpu prints the user+sys seconds of the reaped child processes;
# `times` runs in this shell (in a subshell it would count the subshell's).
children_cpu() {
	awk 'NR == 2 {
		t = 0
		for (i = 1; i <= 2; i++) { split($i, a, "m"); t += a[1] * 60 + a[2] }
		printf "%d\n", t
	}' "$cache.times"
}
echo "go $(go env GOVERSION), $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"
times >"$cache.times"
cpu_before=$(children_cpu)
first_answer "cold build cache"
first_answer "warm build cache"
