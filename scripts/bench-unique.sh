#!/usr/bin/env bash
# Runs bin/gateway against the shared load harness's subgraphs, driven by
# bin/loadgen, in four variants, interleaved ROUNDS times: no auth, auth
# with one token for every request, and auth with a distinct token per
# request (HS256, RS256). See docs/bench.md.
#
#   scripts/bench-unique.sh [HARNESS_DIR]      (default ../shared/bench)
#
# Knobs: CONNS=50 DURATION=20s WARMUP=5s ROUNDS=1 UNIQUE=40000 GW_PORT=4290
# SG_PORT=4291 GW_FLAGS=--dedupe=false. Everything listens on 127.0.0.1;
# each process is started in its own session and stopped by its
# process-group id.
set -euo pipefail
cd "$(dirname "$0")/.."
harness="$(cd "${1:-../shared/bench}" && pwd)"
CONNS=${CONNS:-50} DURATION=${DURATION:-20s} WARMUP=${WARMUP:-5s} ROUNDS=${ROUNDS:-1}
UNIQUE=${UNIQUE:-40000} GW_PORT=${GW_PORT:-4290} SG_PORT=${SG_PORT:-4291} GW_FLAGS=${GW_FLAGS:---dedupe=false}
auth=testdata/bench/auth
work="$(mktemp -d)"
pids=()
stop() { for p in "${pids[@]}"; do kill -- "-$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap stop EXIT
trap 'exit 130' INT TERM

make --no-print-directory build bin/loadgen >/dev/null
(cd "$harness/subgraphs" && go build -buildvcs=false -o "$work/subgraphs" .)
sed "s#127.0.0.1:4200#127.0.0.1:$SG_PORT#g" "$harness/supergraph.graphql" >"$work/supergraph.graphql"
setsid "$work/subgraphs" -addr "127.0.0.1:$SG_PORT" >"$work/subgraphs.log" 2>&1 &
pids+=($!)

jwt="-jwt-issuer fedgate-loadgen -jwt-audience fedgate"
hs="$jwt -jwt-alg HS256 -jwt-kid bench-hs -jwt-secret fedgate-benchmark-only-hs256-secret-not-for-production"
rs="$jwt -jwt-alg RS256 -jwt-kid bench-rs -jwt-key $auth/rs256.key.pem"
variants=(
	"no-auth|testdata/bench/harness.yaml|"
	"auth-one-token-hs256|$auth/gateway.yaml|$hs"
	"auth-unique-hs256|$auth/gateway.yaml|$hs -unique $UNIQUE"
	"auth-unique-rs256|$auth/gateway.yaml|$rs -unique $UNIQUE"
)
for round in $(seq 1 "$ROUNDS"); do
	for v in "${variants[@]}"; do
		IFS='|' read -r name config flags <<<"$v"
		setsid bin/gateway serve --supergraph "$work/supergraph.graphql" --config "$config" \
			--listen "127.0.0.1:$GW_PORT" $GW_FLAGS >"$work/gateway.log" 2>&1 &
		gw=$!
		pids+=("$gw")
		echo "== round $round: $name"
		# shellcheck disable=SC2086
		timeout 300 bin/loadgen -url "http://127.0.0.1:$GW_PORT/graphql" -query "$harness/query.graphql" \
			-operation TestQuery -c "$CONNS" -d "$DURATION" -warmup "$WARMUP" -wait 30s -pid "$gw" $flags \
			|| { echo "gateway log:"; tail -n 20 "$work/gateway.log"; }
		kill -- "-$gw" 2>/dev/null || true
		wait "$gw" 2>/dev/null || true
	done
done
