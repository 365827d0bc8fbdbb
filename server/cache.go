package server

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"github.com/fedgate/gateway/telemetry"
	"log/slog"
	"net/http"
	rtrace "runtime/trace"
	"strconv"
	"strings"
	"time"

	"github.com/fedgate/gateway/auth"
	"github.com/fedgate/gateway/cache"
	"github.com/fedgate/gateway/executor"
	"github.com/fedgate/gateway/internal/reqerr"

	"github.com/fedgate/gateway/planner"
	"github.com/fedgate/gateway/schema"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/formatter"
	"github.com/vektah/gqlparser/v2/parser"
)

// caches are the server's response cache, entity cache and persisted
// queries. They outlive supergraph reloads: every key of an answer holds
// the supergraph version, so a reload never serves an answer of another
// schema.
type caches struct {
	cfg       cache.Config
	stats     *cache.Stats
	responses *cache.ResponseCache // nil when off
	entities  *cache.EntityCache   // nil when off
	persisted *cache.PersistedQueries
}

// newCaches builds the caches of opts; with a zero opts.Cache everything
// is off except the persisted query protocol errors.
func newCaches(opts Options) (*caches, error) {
	c := &caches{cfg: opts.Cache, stats: &cache.Stats{}}
	if opts.Redis != nil {
		c.stats = opts.Redis.Stats()
	}
	var err error
	if opts.Cache.Response.Enabled {
		if c.responses, err = cache.NewResponseCache(opts.Cache.Response, opts.Redis, c.stats); err != nil {
			return nil, err
		}
	}
	if opts.Cache.Entity.AnySubgraph() {
		if c.entities, err = cache.NewEntityCache(opts.Cache.Entity, opts.Redis, c.stats); err != nil {
			return nil, err
		}
	}
	var manifest *cache.Manifest
	td := opts.Cache.TrustedDocuments
	if td.Mode != "" && td.Mode != cache.TrustedOff {
		if manifest, err = cache.LoadManifest(td.Manifest); err != nil {
			return nil, err
		}
	}
	if c.persisted, err = cache.NewPersistedQueries(opts.Cache.APQ, td, manifest, opts.Redis, c.stats); err != nil {
		return nil, err
	}
	return c, nil
}

// closeCaches stops the caches' background work (the in-process caches
// and the entity invalidation listener). Requests still running are served
// uncached. Options.Redis is the caller's to close.
func (s *Server) closeCaches() {
	c := s.caches
	if c.responses != nil {
		c.responses.Close()
	}
	if c.entities != nil {
		c.entities.Close()
	}
	c.persisted.Close()
}

// CacheStats returns the cache counters, for metrics; with Options.Redis
// they are the Redis value's counters, shared by everything built on it.
func (s *Server) CacheStats() *cache.Stats { return s.caches.stats }

// EntityCache returns the entity cache, nil when it is off; its
// Invalidate methods are the Go invalidation API.
func (s *Server) EntityCache() *cache.EntityCache { return s.caches.entities }

// InvalidationHandler serves entity cache invalidation (see
// cache.InvalidationHandler), for the admin listener; it answers 404 when
// the entity cache is off.
func (s *Server) InvalidationHandler() http.Handler {
	if s.caches.entities == nil {
		return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			reqerr.Write(w, "application/json", &reqerr.Error{Code: "NOT_FOUND", Message: "the entity cache is off", Status: http.StatusNotFound})
		})
	}
	return cache.InvalidationHandler(s.caches.entities)
}

// runtimeCache is what the caches need of one supergraph version.
type runtimeCache struct {
	hints *cache.Hints
	// keyFields maps subgraph name -> type -> top-level @key fields.
	keyFields map[string]map[string][]string
}

func newRuntimeCache(sg *schema.Supergraph, cfg cache.Config) *runtimeCache {
	rc := &runtimeCache{hints: cache.NewHints(sg.Full, cfg.Response), keyFields: map[string]map[string][]string{}}
	for name, t := range sg.Types {
		for graphID, tig := range t.Graphs {
			g := sg.Graph(graphID)
			if g == nil {
				continue
			}
			seen := map[string]bool{}
			var fields []string
			for _, k := range tig.Keys {
				for _, sel := range k.Selection {
					if f, ok := sel.(*ast.Field); ok && !seen[f.Name] {
						seen[f.Name] = true
						fields = append(fields, f.Name)
					}
				}
			}
			if len(fields) == 0 {
				continue
			}
			if rc.keyFields[g.Name] == nil {
				rc.keyFields[g.Name] = map[string][]string{}
			}
			rc.keyFields[g.Name][name] = fields
		}
	}
	return rc
}

// policy is the static cache policy of an operation.
func (rc *runtimeCache) policy(doc *ast.QueryDocument, op *ast.OperationDefinition) cache.Policy {
	if op.Operation != ast.Query {
		return cache.Policy{}
	}
	return rc.hints.Operation(doc, op)
}

// fetchPrivate reports whether an entity fetch of the entry's plan
// selects PRIVATE fields; a fetch whose operation cannot be read counts as
// private. The answer is kept with the plan entry, so it goes when the
// plan leaves the plan cache.
func (e *planEntry) fetchPrivate(rc *runtimeCache, f *planner.Fetch) bool {
	if v, ok := e.privateFetch.Load(f); ok {
		return v.(bool)
	}
	private := true
	if doc, err := parser.ParseQuery(&ast.Source{Input: f.Operation}); err == nil && len(doc.Operations) == 1 {
		private = false
		for _, sel := range doc.Operations[0].SelectionSet {
			if fld, ok := sel.(*ast.Field); ok && fld.Name == "_entities" {
				private = rc.hints.Scope("", fld.SelectionSet) == cache.Private
			}
		}
	}
	e.privateFetch.Store(f, private)
	return private
}

// normalizedHash hashes the document as gqlparser prints it: comments,
// spacing and commas do not change the response cache key.
func normalizedHash(doc *ast.QueryDocument) [32]byte {
	var buf bytes.Buffer
	formatter.NewFormatter(&buf, formatter.WithComments()).FormatQueryDocument(doc)
	return sha256.Sum256(buf.Bytes())
}

// identityOf is the caller identity PRIVATE entries are keyed by: the
// verified token's issuer and subject; "" for anonymous callers.
func identityOf(ctx context.Context) string {
	c := auth.CallerFrom(ctx)
	if c == nil || !c.Authenticated || c.Subject == "" {
		return ""
	}
	iss, _ := c.Claims["iss"].(string)
	return iss + "\x00" + c.Subject
}

// responseMeta carries what the response cache adds to the HTTP answer.
type responseMeta struct {
	cacheControl string
	age          string
	// headers are the subgraph response headers propagated to the
	// client (extend.go); only the request that made the fetches gets them.
	headers http.Header
	// shared is true when the body belongs to a cache or to other
	// requests: it must not be recycled.
	shared bool
	// incremental is set by the caller when the response may be a
	// multipart stream (the client accepts it, not a batch); stream is
	// then the run of that stream, when the operation has @defer.
	incremental bool
	stream      func(emit func([]byte) bool)
	// mutation is set once the operation is known to be a mutation: its
	// answer is written even past server.max_writing_bytes (unread.go).
	mutation bool
}

// entityCacheFor returns the entity cache of one request, nil when off.
func (s *Server) entityCacheFor(ctx context.Context, a *answerInput) executor.EntityCache {
	if s.caches.entities == nil {
		return nil
	}
	vary := s.fetchVary(a)
	if len(s.caches.cfg.Response.VaryHeaders) > 0 {
		vary += "\x00" + strings.Join(s.varyValues(a.hr), "\x00")
	}
	return &requestEntities{c: s.caches.entities, rt: a.rt, entry: a.entry, identity: identityOf(ctx), vary: vary}
}

// varyValues are the values of the configured vary headers of r, in
// order.
func (s *Server) varyValues(r *http.Request) []string {
	var out []string
	for _, h := range s.caches.cfg.Response.VaryHeaders {
		out = append(out, h+":"+joinValues(r.Header.Values(h)))
	}
	return out
}

// fetchVary is what may change a request's subgraph fetches beyond its
// operation, variables and vary headers without the caches seeing it
// before the fetches are made: with hooks (or the coprocessor) at a
// Subgraph stage, which may set a fetch's headers or rewrite its answer,
// everything they may read of the request (the caller key: credentials,
// forwarded headers, grants, labels, and the method, path and hook
// Context). "" without such hooks. The response and entity caches key
// every entry by it, so that callers whose hook-made fetches may differ
// never share an answer.
//
// Hooks that declared what they read (hooks.Vary) are keyed by those
// values only, so callers that differ elsewhere share entries.
func (s *Server) fetchVary(a *answerInput) string {
	if !s.subgraphHooks() {
		return ""
	}
	if v := s.ext.vary; v != nil {
		return s.declaredVary(a.hr, a.rt.sg, v)
	}
	return s.callerKey(a.hr, a.rt.sg, a.grants.Key, a.labels)
}

// requestEntities adapts the entity cache to the executor for one
// request.
type requestEntities struct {
	c        *cache.EntityCache
	rt       *runtime
	entry    *planEntry
	identity string
	vary     string
}

func (r *requestEntities) fetch(f *planner.Fetch, vars []byte) *cache.EntityFetch {
	sel := make([]byte, 0, len(f.Operation)+len(vars)+1)
	sel = append(append(append(sel, f.Operation...), 0), vars...)
	keys := r.rt.cache.keyFields[f.Subgraph]
	return &cache.EntityFetch{
		Version:   r.rt.sg.Version,
		Subgraph:  f.Subgraph,
		Selection: sel,
		KeyFields: func(t string) []string { return keys[t] },
		Identity:  r.identity,
		Vary:      r.vary,
		Private:   r.entry.fetchPrivate(r.rt.cache, f),
	}
}

// Get implements executor.EntityCache.
func (r *requestEntities) Get(ctx context.Context, f *planner.Fetch, vars []byte, reps [][]byte) []executor.CachedEntity {
	if !r.c.Enabled(f.Subgraph) {
		return nil
	}
	hits := r.c.Get(ctx, r.fetch(f, vars), reps)
	out := make([]executor.CachedEntity, len(hits))
	for i, h := range hits {
		if h.Body != nil {
			out[i] = executor.CachedEntity{Body: h.Body, CacheControl: h.Policy.Header()}
		}
	}
	return out
}

// Put implements executor.EntityCache.
func (r *requestEntities) Put(ctx context.Context, f *planner.Fetch, vars []byte, reps, entities [][]byte, cacheControl string) {
	if !r.c.Enabled(f.Subgraph) {
		return
	}
	r.c.Put(ctx, r.fetch(f, vars), reps, entities, cacheControl)
}

// finalPolicy restricts the static policy by what the subgraphs and the
// entity cache said.
func finalPolicy(p cache.Policy, stats *executor.Stats) cache.Policy {
	for _, cc := range stats.CacheControl {
		if hp, ok := cache.ParseCacheControl(cc); ok {
			p = p.Restrict(hp)
		}
	}
	return p
}

// cachedQuery answers a query through the response cache: a hit is
// served with its Age; concurrent identical misses of callers who cannot
// be told apart compute once; a response without errors whose final
// policy allows it is stored. The Cache-Control sent is never public for
// an answer that depends on the caller's grants.
func (s *Server) cachedQuery(ctx context.Context, a *answerInput, in executor.Input, meta *responseMeta) ([]byte, int) {
	rt, entry := a.rt, a.entry
	policy := entry.policy
	identity := identityOf(ctx)
	if !policy.Cacheable() || policy.Scope == cache.Private && identity == "" {
		in.Entities = s.entityCacheFor(ctx, a)
		out, status, stats := s.run(ctx, rt, entry, in)
		meta.cacheControl = uncachedHeader(s.downstream(finalPolicy(policy, &stats), a), stats)
		return out, status
	}
	// The coerced variables were marshalled once (maps marshal with
	// sorted keys) for the subgraphs; the key uses the same bytes.
	var vars []byte
	if len(a.coerced) > 0 {
		vars = in.Variables
	}
	key := &cache.ResponseKey{Version: rt.sg.Version, Document: a.d.normalized, OperationName: a.op.Name, Variables: vars,
		Grants: a.grants.Key, Identity: identity, Caller: s.callerKey(a.hr, rt.sg, a.grants.Key, a.labels),
		Vary: s.varyValues(a.hr), Fetch: s.fetchVary(a)}
	privateOnly := policy.Scope == cache.Private
	rc := s.caches.responses
	if r, ok := rc.Get(ctx, key, privateOnly); ok {
		return s.servedFromCache(r, meta, a), http.StatusOK
	}
	res, err := rc.Do(ctx, key.FlightKey(), func(fctx context.Context) cache.Result {
		if r, ok := rc.Recheck(fctx, key, privateOnly); ok {
			return cache.Result{Body: r.Body, Status: http.StatusOK, Cached: r}
		}
		in.Entities = s.entityCacheFor(fctx, a)
		out, status, stats := s.run(fctx, rt, entry, in)
		body := append([]byte(nil), out...)
		putBuffer(out)
		final := finalPolicy(policy, &stats)
		if stats.Errors == 0 && stats.InvalidValues == 0 && status == http.StatusOK {
			rc.Set(fctx, key, body, final)
		} else {
			final = cache.Policy{}
		}
		return cache.Result{Body: body, Status: status, Policy: final}
	})
	if ctx.Err() != nil {
		return reqerr.Body(errCancelled), errCancelled.Status
	}
	if err != nil {
		slog.Error("response cache computation", "err", err)
		return reqerr.Body(reqerr.Internal), http.StatusInternalServerError
	}
	meta.shared = true
	if res.Cached != nil {
		return s.servedFromCache(res.Cached, meta, a), http.StatusOK
	}
	meta.cacheControl = s.downstream(res.Policy, a).Header()
	return res.Body, res.Status
}

func (s *Server) servedFromCache(r *cache.Response, meta *responseMeta, a *answerInput) []byte {
	meta.shared = true
	meta.cacheControl = s.downstream(r.Policy, a).Header()
	meta.age = strconv.FormatInt(int64(r.Age(time.Now())/time.Second), 10)
	return r.Body
}

// uncachedHeader is the Cache-Control of a response the cache did not
// store: its policy, unless it had errors or values a subgraph answered
// that the API schema cannot represent.
func uncachedHeader(p cache.Policy, stats executor.Stats) string {
	if stats.Errors > 0 || stats.InvalidValues > 0 {
		return "no-store"
	}
	return p.Header()
}

func joinValues(vs []string) string {
	b, _ := json.Marshal(vs)
	return string(b)
}

// run executes a plan under the memory budget.
func (s *Server) run(ctx context.Context, rt *runtime, entry *planEntry, in executor.Input) ([]byte, int, executor.Stats) {
	var stats executor.Stats
	in.Stats = &stats
	res, err := s.reserve(ctx, entry)
	if err != nil {
		stats.Errors = 1
		return reqerr.Body(err), err.Status, stats
	}
	defer s.unreserve(res)
	ectx, execSpan := s.startSpan(ctx, telemetry.SpanExecute)
	region := rtrace.StartRegion(ectx, regionExecute)
	out := executor.Execute(ectx, entry.plan, in, rt.transport, getBuffer())
	region.End()
	execSpan.End()
	if ctx.Err() == nil {
		entry.weight.Store(nextWeight(entry.weight.Load(), stats.SubgraphBytes*parsedFactor+int64(len(out))))
	}
	return out, http.StatusOK, stats
}

// errWaitEnded answers a request that ended while waiting for the
// execution memory budget.
var errWaitEnded = &reqerr.Error{Code: "REQUEST_CANCELLED", Message: "the request ended while waiting to execute", Status: http.StatusServiceUnavailable}

// reservation is what an execution took from the execution memory
// budget (reserve), for unreserve; zero without a budget.
type reservation struct {
	w int64
	// client is the client whose share of the budget w counts
	// against (clientBudget), "" when none.
	client string
}

// reserve takes what an execution of entry's plan is expected to hold
// from the execution memory budget (max_inflight_bytes), waiting for it
// until ctx ends. Every execution of a client request reserves: one body
// (run) and an incremental answer (@defer, incrementalRun) alike.
func (s *Server) reserve(ctx context.Context, entry *planEntry) (reservation, *reqerr.Error) {
	if s.budget == nil {
		return reservation{}, nil
	}
	w := entry.weight.Load()
	if w == 0 {
		// A plan not run yet: a cautious guess, so that a burst of a
		// new operation cannot take the whole budget at once.
		w = s.opts.MaxInflightBytes / 8
	}
	if b, _ := ctx.Value(batchAnswersKey{}).(*batchAnswers); b != nil {
		w += b.bytes.Load() // the answers the batch holds (batchAnswers)
	}
	w = min(max(w, minWeight), s.opts.MaxInflightBytes)
	client := telemetry.RequestInfoFrom(ctx).LimitsClient()
	if client != "" {
		// Past its share a client's execution waits in a queue of its
		// own, not the budget's (clientBudget).
		if err := s.budgetHeld.take(ctx, client, w, clientShare(s.opts.MaxInflightBytes)); err != nil {
			return reservation{}, errWaitEnded
		}
	}
	if !s.budget.TryAcquire(w) {
		// Counted while waiting: max_inflight_per_client binds while
		// anyone waits here (Server.busy).
		wait := rtrace.StartRegion(ctx, regionWait)
		s.budgetWaiters.Add(1)
		aerr := s.budget.Acquire(ctx, w)
		s.budgetWaiters.Add(-1)
		wait.End()
		if aerr != nil {
			if client != "" {
				s.budgetHeld.release(client, w)
			}
			return reservation{}, errWaitEnded
		}
	}
	return reservation{w: w, client: client}, nil
}

// unreserve gives back what reserve took.
func (s *Server) unreserve(r reservation) {
	if r.w > 0 {
		s.budget.Release(r.w)
		if r.client != "" {
			s.budgetHeld.release(r.client, r.w)
		}
	}
}

// nextWeight is a plan's weight after a run that used used: what the run
// used, or, when that is less, the old weight lowered by a quarter. A run
// whose client went away is not counted at all: its fetches were cut
// short, and a weight taken from it would let the next burst of the same
// operation start all at once (the budget admitted up to 256 runs of the
// shared harness's query after wrk's connections closed, and the heap
// jumped from 17 MB to 48 MB live).
func nextWeight(old, used int64) int64 {
	if decayed := old - old/4; used < decayed {
		return decayed
	}
	return used
}
