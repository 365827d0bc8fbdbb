#!/usr/bin/env bash
# Installs what the tests need beyond Go and Node.js on a Debian machine:
# redis-server and redis-cli (tests start their own servers, clusters and
# sentinels on loopback), Chromium (the browser test), curl (the
# documentation's commands) and the npm packages of e2e/js, e2e/subscriptions,
# e2e/defer, e2e/uploads and e2e/difftest. Does nothing for what is there.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
# redis-cli forms the Redis Cluster of the cluster tests (internal/redistest).
command -v redis-cli >/dev/null 2>&1 || need+=(redis-tools)
[ -x /usr/bin/chromium ] || need+=(chromium)
# curl: the documentation's commands use it (e2e TestDocCommands runs them).
command -v curl >/dev/null 2>&1 || need+=(curl)
if [ ${#need[@]} -gt 0 ]; then
	echo "installing ${need[*]} (apt-get)"
	sudo=""
	[ "$(id -u)" = 0 ] || sudo=sudo
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
fi

# playwright-core and the graphql-http audit come from e2e/js's lock file.
if [ ! -f e2e/js/node_modules/.package-lock.json ] || [ e2e/js/package-lock.json -nt e2e/js/node_modules/.package-lock.json ]; then
	(cd e2e/js && npm ci --no-audit --no-fund --loglevel=error)
fi

# graphql-ws, graphql-sse and Apollo Client for the subscription tests.
if [ ! -f e2e/subscriptions/node_modules/.package-lock.json ] || [ e2e/subscriptions/package-lock.json -nt e2e/subscriptions/node_modules/.package-lock.json ]; then
	(cd e2e/subscriptions && npm ci --no-audit --no-fund --loglevel=error)
fi

# meros and Apollo Client for the @defer tests.
if [ ! -f e2e/defer/node_modules/.package-lock.json ] || [ e2e/defer/package-lock.json -nt e2e/defer/node_modules/.package-lock.json ]; then
	(cd e2e/defer && npm ci --no-audit --no-fund --loglevel=error)
fi

# Apollo Client and apollo-upload-client for the file upload tests.
if [ ! -f e2e/uploads/node_modules/.package-lock.json ] || [ e2e/uploads/package-lock.json -nt e2e/uploads/node_modules/.package-lock.json ]; then
	(cd e2e/uploads && npm ci --no-audit --no-fund --loglevel=error)
fi

# @apollo/composition, the reference the Go composer's tests compare with.
if [ ! -f scripts/compose/node_modules/.package-lock.json ] || [ scripts/compose/package-lock.json -nt scripts/compose/node_modules/.package-lock.json ]; then
	(cd scripts/compose && npm ci --no-audit --no-fund --loglevel=error)
fi

# Apollo Gateway and Hive Gateway, the reference gateways of the
# differential test (e2e/difftest, docs/differential.md).
for dir in e2e/difftest/js e2e/difftest/hive; do
	if [ ! -f "$dir/node_modules/.package-lock.json" ] || [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
		(cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
	fi
done
