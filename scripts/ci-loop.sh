#!/usr/bin/env bash
# Runs the part of .ci/run before the tests (the tool versions) N times
# (default 300) in a fresh clone of this repository's HEAD and counts the
# exit codes: every run must exit 0. A pipe whose reader exits before its
# writer is done (`make --version | head -n 1` under pipefail) fails here
# about one run in ten with 141 (SIGPIPE).
#
#   scripts/ci-loop.sh [N]
set -euo pipefail
n=${1:-300}
repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
git clone -q --no-hardlinks "$repo" "$work/clone"
# An older .ci/run would ignore the flag and run the whole test suite.
if ! grep -q -e '--versions-only' "$work/clone/.ci/run"; then
	echo "ci-loop: HEAD's .ci/run has no --versions-only; commit it first" >&2
	exit 2
fi

declare -A codes=()
for ((i = 1; i <= n; i++)); do
	status=0
	"$work/clone/.ci/run" --versions-only >"$work/out" 2>&1 || status=$?
	codes[$status]=$((${codes[$status]:-0} + 1))
	if [ "$status" != 0 ] && [ "${codes[$status]}" = 1 ]; then
		echo "run $i exited $status:"
		sed 's/^/  /' "$work/out"
	fi
done

fail=0
for code in "${!codes[@]}"; do
	echo "exit $code: ${codes[$code]} of $n runs"
	[ "$code" = 0 ] || fail=1
done
exit $fail
