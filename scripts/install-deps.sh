#!/usr/bin/env bash
# Installs what the tests need beyond Go on a Debian machine: redis-server
# and redis-cli (tests start their own servers, clusters and sentinels on
# loopback), Chromium (the browser test), curl (the documentation's
# commands), Node.js 20 or later and npm when the distribution has them
# (Debian 13; Debian 12's Node.js is 18: then it says where to get one), and
# the npm packages of e2e/js, e2e/subscriptions, e2e/defer, e2e/uploads and
# e2e/difftest. Does nothing for what is there.
set -euo pipefail
cd "$(dirname "$0")/.."

NODE_MAJOR=20 # the e2e packages' engines: node >= 20

need=()
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
# redis-cli forms the Redis Cluster of the cluster tests (internal/redistest).
command -v redis-cli >/dev/null 2>&1 || need+=(redis-tools)
[ -x /usr/bin/chromium ] || need+=(chromium)
# curl: the documentation's commands use it (e2e TestDocCommands runs them).
command -v curl >/dev/null 2>&1 || need+=(curl)

# major prints the major version of a version string (v20.1.0, 18.20.4+dfsg-1,
# 1:20.0), 0 for none.
major() { sed -E 's/^v?([0-9]+:)?([0-9]+).*/\2/; t; s/.*/0/' <<<"${1:-}"; }
node_major=$(major "$(node --version 2>/dev/null || true)")
need_node=0
[ "$node_major" -ge "$NODE_MAJOR" ] || need_node=1
command -v npm >/dev/null 2>&1 || need_node=1

sudo=""
[ "$(id -u)" = 0 ] || sudo=sudo
if [ ${#need[@]} -gt 0 ] || [ "$need_node" = 1 ]; then
	$sudo apt-get update -qq
fi
if [ "$need_node" = 1 ]; then
	candidate=$(major "$(apt-cache policy nodejs 2>/dev/null | awk '/Candidate:/ {print $2}')")
	if [ "$node_major" -lt "$NODE_MAJOR" ] && [ "$candidate" -lt "$NODE_MAJOR" ]; then
		echo "install-deps: the tests need Node.js $NODE_MAJOR or later and npm (found: $(node --version 2>/dev/null || echo none));" >&2
		echo "  this distribution's nodejs package is ${candidate/#0/none} (Debian 12 has 18, Debian 13 has 20)." >&2
		echo "  Install Node.js $NODE_MAJOR+ from https://nodejs.org/en/download (or NodeSource's apt repository), then run make test again." >&2
		exit 1
	fi
	[ "$node_major" -ge "$NODE_MAJOR" ] || need+=(nodejs)
	# Debian packages npm apart from nodejs (NodeSource's nodejs includes it).
	command -v npm >/dev/null 2>&1 || need+=(npm)
fi
if [ ${#need[@]} -gt 0 ]; then
	echo "installing ${need[*]} (apt-get)"
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
