# fedgate: a GraphQL federation gateway in Go. `make help` lists the targets.

GO          ?= go
BIN         := bin
BENCH_PORT  ?= 4080
BENCH_CONNS ?= 50
BENCH_TIME  ?= 10s
BENCH_QUERY ?= testdata/bench/demo-query.graphql
BENCH_FLAGS ?=
LOADGEN_FLAGS ?=
BENCH_UNIQUE ?= 15000
BENCH_AUTH  := testdata/bench/auth
TEST_FLAGS  ?= -timeout 10m
TIMING_TESTS ?= ^(TestSharedLimitsThreeInstances|TestSlowReadersAreNotCutInTheKernel|TestSharedLimitsRedisOutage|TestGatewayRedisFailover|TestSlowSubgraphCostsOnlyItsFields|TestBreakerOpensFailsFastAndRecovers|TestBulkheadSaturation|TestLoadShedding|TestRequestDeadline|TestBadBodies|TestFaultMatrixUnderLoad|TestDeferDeadlineAfterPrimary|TestDeferSlowReader|TestSubgraphKilledDuringLoad|TestRegistryBinariesShareRedis)$$
FUZZ_TIME   ?= 30s
DIFFTEST_N    ?= 300
DIFFTEST_SEED ?= 1
# DIFFTEST_MUTATE_N: rewritten real operations per graph (internal/mutate)
# that make difftest runs after the generated ones.
DIFFTEST_MUTATE_N ?= 60

# The race detector needs cgo and a C compiler; without them (a machine
# with only Go installed) the tests run without it.
RACE := $(shell [ "$$($(GO) env CGO_ENABLED)" = 1 ] && command -v "$$($(GO) env CC)" >/dev/null 2>&1 && echo -race)

.PHONY: cross-build timing-test deps help run build build-static test lint fmt-check vet bench bench-unique gobench fuzz compose clean playground js-test browser-test http-audit playground-test difftest subscriptions-test defer-test uploads-test attack

help:
	@echo 'make run       start the demo: 4 subgraphs in process, the gateway on http://localhost:4000/graphql'
	@echo 'make build     build bin/gateway'
	@echo 'make build-static  build bin/gateway static and -trimpath, as the Docker image (what the load figures use)'
	@echo 'make test      install missing test tools (deps), gofmt check, go vet, cross-build, go test (-race when cgo is available), then js-test'
	@echo 'make deps      install redis-server, chromium, curl, Node.js 20+ and npm (apt-get, where the distribution has Node.js 20) and the e2e npm packages when missing'
	@echo 'make js-test   playground-test, http-audit, browser-test, subscriptions-test, defer-test and uploads-test (need Node.js, npm and /usr/bin/chromium)'
	@echo 'make browser-test  the playground in headless Chromium against bin/gateway demo'
	@echo 'make http-audit    the graphql-http GraphQL over HTTP audit against bin/gateway demo'
	@echo 'make subscriptions-test  graphql-ws, graphql-sse and Apollo Client subscribing through bin/gateway demo'
	@echo 'make playground    rebuild the playground bundle playground/dist (needs Node.js)'
	@echo 'make lint      gofmt check and go vet'
	@echo 'make cross-build  go build ./... for windows/amd64 and darwin/arm64 (make test runs it)'
	@echo 'make bench     load-test bin/gateway demo with bin/loadgen ($(BENCH_TIME), $(BENCH_CONNS) connections)'
	@echo 'make bench-unique  make bench with auth on and a distinct valid JWT per request, HS256 then RS256 (docs/bench.md)'
	@echo 'make gobench   Go benchmarks of planner, executor and server'
	@echo 'make attack    the adversarial suite (docs/security.md): slow clients, idle connections, validation, APQ floods, forged headers, dedupe and cache isolation, WebSocket floods; prints the figure each attack is bounded by'
	@echo 'make fuzz      every fuzz target for $(FUZZ_TIME)'
	@echo 'make difftest  $(DIFFTEST_N) generated and $(DIFFTEST_MUTATE_N) rewritten real operations per graph (demo + composed fixtures), fedgate vs Apollo and Hive Gateway (SEED=$(DIFFTEST_SEED))'
	@echo 'make compose   recompose gateway.graphql from the demo subgraph schemas (subgraphs/demo/supergraph.yaml)'

run:
	$(GO) run ./cmd/gateway demo

build:
	$(GO) build -o $(BIN)/gateway ./cmd/gateway

# build-static makes bin/gateway as the Dockerfile does: static (no libc
# mapped) and -trimpath (shorter file names in the function table), which
# keeps about 2.5 MB of the binary's pages out of the process's memory
# (docs/bench.md). Its first run compiles every package again.
build-static:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags='-s -w' -o $(BIN)/gateway ./cmd/gateway

$(BIN)/loadgen: FORCE
	$(GO) build -o $(BIN)/loadgen ./cmd/loadgen

FORCE:

fmt-check:
	@out="$$(gofmt -l $$(find . -name '*.go' -not -path '*/node_modules/*' -not -path './.git/*'))"; \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

lint: fmt-check vet

# cross-build compiles every package for the other systems the gateway is
# built for (Windows, macOS), and vets them with their tests (go vet
# type-checks the test files too), so that code needing Linux or Unix
# system calls keeps behind a build tag with a fallback (the tests' own
# calls are in internal/testsys); make test calls it. A warm build cache
# answers in seconds; cold, it compiles the imports once per system.
CROSS_TARGETS ?= windows/amd64 darwin/arm64
cross-build:
	@set -e; for t in $(CROSS_TARGETS); do \
		echo "go build ./... and go vet ./... for $$t"; \
		GOOS=$${t%/*} GOARCH=$${t#*/} $(GO) build ./...; \
		GOOS=$${t%/*} GOARCH=$${t#*/} $(GO) vet ./...; \
	done

# deps installs redis-server, Chromium, curl, Node.js 20+ with npm and the e2e
# npm packages when missing (apt-get, as root or through sudo), so make test
# works on a fresh machine (scripts/install-deps.sh).
deps:
	./scripts/install-deps.sh

test: deps fmt-check vet cross-build
	@[ -n "$(RACE)" ] || echo 'note: no cgo/C compiler, testing without -race'
	FEDGATE_SKIP_TIMING_TESTS=1 $(GO) test $(RACE) $(TEST_FLAGS) ./...
	@$(MAKE) --no-print-directory timing-test
	@$(MAKE) --no-print-directory js-test

# timing-test runs the tests marked with internal/serial.Timing (rates and
# latencies measured over real time) alone, one package at a time, so that
# other test binaries do not starve them; make test skips them in its
# parallel run and calls this after it.
TIMING_PKGS ?= ./e2e ./internal/redistest ./server
timing-test:
	$(GO) test $(RACE) $(TEST_FLAGS) -p 1 -count=1 -run '$(TIMING_TESTS)' $(TIMING_PKGS)

# bench starts bin/gateway demo on 127.0.0.1:$(BENCH_PORT) in the background,
# runs loadgen against it (loadgen waits for it to answer, and fails if the
# gateway is not running), and stops the gateway by its pid, also when
# something fails.
bench: build $(BIN)/loadgen
	@log=$$(mktemp); \
	$(BIN)/gateway demo --listen 127.0.0.1:$(BENCH_PORT) $(BENCH_FLAGS) >"$$log" 2>&1 & pid=$$!; \
	trap 'kill $$pid 2>/dev/null; wait $$pid 2>/dev/null; rm -f "$$log"' EXIT; \
	trap 'exit 130' INT TERM; \
	echo "gateway: pid $$pid, demo subgraphs in the same process"; \
	timeout 150 $(BIN)/loadgen -url http://127.0.0.1:$(BENCH_PORT)/graphql -query $(BENCH_QUERY) \
		-c $(BENCH_CONNS) -d $(BENCH_TIME) -warmup 2s -wait 15s -pid $$pid $(LOADGEN_FLAGS) \
	|| { status=$$?; echo "gateway log:"; tail -n 20 "$$log"; exit $$status; }

# bench-unique is bench with authentication required and every request
# carrying its own valid JWT (BENCH_UNIQUE are signed before the run; the
# run ends early when they are used up), so no cache or dedupe keyed by the
# caller can help: HS256, then RS256.
BENCH_JWT := -jwt-issuer fedgate-loadgen -jwt-audience fedgate -unique $(BENCH_UNIQUE)
bench-unique: build $(BIN)/loadgen
	@echo "== HS256, a distinct token per request"
	@$(MAKE) --no-print-directory bench BENCH_FLAGS='--config $(BENCH_AUTH)/gateway.yaml $(BENCH_FLAGS)' \
		LOADGEN_FLAGS='$(BENCH_JWT) -jwt-alg HS256 -jwt-kid bench-hs -jwt-secret fedgate-benchmark-only-hs256-secret-not-for-production'
	@echo "== RS256, a distinct token per request"
	@$(MAKE) --no-print-directory bench BENCH_FLAGS='--config $(BENCH_AUTH)/gateway.yaml $(BENCH_FLAGS)' \
		LOADGEN_FLAGS='$(BENCH_JWT) -jwt-alg RS256 -jwt-kid bench-rs -jwt-key $(BENCH_AUTH)/rs256.key.pem'

gobench:
	$(GO) test -run '^$$' -bench . -benchmem ./planner ./executor ./server

fuzz:
	@set -e; for pkg in $$($(GO) list ./...); do \
		for target in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
			echo "== $$pkg $$target"; \
			$(GO) test -run '^$$' -fuzz "^$$target\$$" -fuzztime $(FUZZ_TIME) $$pkg; \
		done; \
	done

# attack runs the adversarial suite: the attack package against a gateway
# process with every feature on (build tag attack; about a minute), then
# the hostile-caller regression tests of the packages. Lines starting with
# FIGURE are the bounds measured.
ATTACK_TESTS := TestUnreadBudgetNeverRefusesAMutation|TestSlowBodiesHoldNeitherMemoryNorSlots|TestReadingBudgetRefusesAtOnce|TestClaimHeadersCannotBeForged|TestConnectionHeadersNotForwarded|TestConcurrentCallersNeverShareAComputation|TestPrivateScopeNeverCrossesCallers|TestFieldMergeWorkRefused|TestRefusedRequestsNeverValidate|TestAPQRegistersOnlyAcceptedDocuments|TestClientFieldsClippedInLog|TestInboundDedupe.*|TestDedupeSharesIdenticalQueries|TestResponseCacheKeepsAuthorizationApart|TestSubgraphVaryKeepsCallersApart|TestConnectionsPerAddressBounded|TestConnectionLimitOverTLS|TestTokenCookieBesideAHeaderToken|TestHeaderCountBounded|TestJWKSRefreshOutlivesTheCallerThatAsked|TestRunLimitsAfterMergeWork|TestObjectKeysAllocateOnce|TestMalformedHashIsNotLookedUp|TestControlFramesPaced|TestControlPaceEndsWithTheConnection|TestAnswersShareABudget|TestClientBudgetShare|TestClientBudgetAlone|TestWildcardSkipsProxyHeaders|TestIdentify|TestUploadAnswersShareTheBudget|TestSpoolClientShare|TestClientSpoolShare|TestUploadSpoolClientShare|TestUploadRefusedMidBodyIsAnsweredAtOnce|TestCapRuleErrorsBuildsNoMore|TestWritingBudget|TestUnreadAnswersShareABudget|TestUnreadAnswerRefused|TestCapRuleErrorsKeepsTheFirst|TestGroupKeyHeaders|TestRefusedUploadOverHTTP2KeepsTheConnection|TestWritingBudgetSharedAnswer|TestUnreadRefusalDropsCookies|TestFieldCycles|TestAdmitRefusesFieldCycles|TestConnKeyHeaders
attack: deps
	$(GO) test -tags attack -count=1 -v -timeout 5m ./attack/
	$(GO) test -count=1 -timeout 5m -run '^($(ATTACK_TESTS))$$' ./server/ ./server/request/ ./subgraphs/ ./subgraphs/h1/ ./subgraphs/wsclient/ ./auth/ ./limits/ ./cache/ ./subscriptions/ ./uploads/ ./e2e/

# difftest: the differential test (e2e/difftest, docs/differential.md) on
# the demo graph and every composed fixture, with generated operations and
# then with rewritten real ones (DIFFTEST_MUTATE=1); the reports of every
# case go to bin/difftest-report.txt and bin/difftest-mutate-report.txt.
difftest: deps
	@mkdir -p $(BIN)
	DIFFTEST_N=$(DIFFTEST_N) DIFFTEST_SEED=$(DIFFTEST_SEED) DIFFTEST_GRAPHS=all DIFFTEST_REPORT=$(CURDIR)/$(BIN)/difftest-report.txt \
		$(GO) test -count=1 -timeout 90m -run '^TestDifferential$$' -v ./e2e/difftest
	DIFFTEST_MUTATE=1 DIFFTEST_N=$(DIFFTEST_MUTATE_N) DIFFTEST_SEED=$(DIFFTEST_SEED) DIFFTEST_GRAPHS=all DIFFTEST_REPORT=$(CURDIR)/$(BIN)/difftest-mutate-report.txt \
		$(GO) test -count=1 -timeout 30m -run '^TestDifferential$$' -v ./e2e/difftest

compose:
	$(GO) run ./cmd/gateway compose --config subgraphs/demo/supergraph.yaml -o gateway.graphql

# playground rebuilds playground/dist, the GraphiQL bundle that the binary
# embeds; commit the result.
playground:
	cd playground && npm ci --no-audit --no-fund && npm run build

# The Node.js tests (e2e/js) run bin/gateway demo on a free loopback port;
# each script stops itself after 120 s.
JS_DEPS := e2e/js/node_modules/.package-lock.json
SUBS_DEPS := e2e/subscriptions/node_modules/.package-lock.json
DEFER_DEPS := e2e/defer/node_modules/.package-lock.json
UPLOADS_DEPS := e2e/uploads/node_modules/.package-lock.json

$(JS_DEPS): e2e/js/package.json e2e/js/package-lock.json
	cd e2e/js && npm ci --no-audit --no-fund

$(SUBS_DEPS): e2e/subscriptions/package.json e2e/subscriptions/package-lock.json
	cd e2e/subscriptions && npm ci --no-audit --no-fund

$(DEFER_DEPS): e2e/defer/package.json e2e/defer/package-lock.json
	cd e2e/defer && npm ci --no-audit --no-fund

$(UPLOADS_DEPS): e2e/uploads/package.json e2e/uploads/package-lock.json
	cd e2e/uploads && npm ci --no-audit --no-fund

js-test: playground-test http-audit browser-test subscriptions-test defer-test uploads-test

# uploads-test sends files through bin/gateway demo with Apollo Client and
# apollo-upload-client (e2e/uploads), the GraphQL multipart request spec.
uploads-test: build $(UPLOADS_DEPS)
	timeout 180 node e2e/uploads/clients.mjs $(BIN)/gateway

# defer-test reads @defer answers through bin/gateway demo with the meros
# multipart parser and Apollo Client (e2e/defer).
defer-test: build $(DEFER_DEPS)
	timeout 180 node e2e/defer/clients.mjs $(BIN)/gateway

# subscriptions-test subscribes through bin/gateway demo with the graphql-ws,
# graphql-sse and Apollo Client npm clients (e2e/subscriptions).
subscriptions-test: build $(SUBS_DEPS) $(JS_DEPS)
	timeout 180 node e2e/subscriptions/clients.mjs $(BIN)/gateway

# playground-test checks the playground's plan printer against the golden
# plans (testdata/plans: the JSON the gateway returns, the text it prints).
playground-test:
	node --test --test-reporter=dot playground/src/plan.test.js

browser-test: build $(JS_DEPS)
	timeout 180 node e2e/js/browser.mjs $(BIN)/gateway

http-audit: build $(JS_DEPS)
	timeout 180 node e2e/js/audit.mjs $(BIN)/gateway

clean:
	rm -rf $(BIN)
