package registry

import (
	"context"
	"errors"
	"fmt"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/fedgate/gateway/schema"
	"github.com/fedgate/gateway/schema/compose"
	"github.com/fedgate/gateway/schema/diff"
)

// ErrInvalid marks a request the registry refuses before composing (a bad
// subgraph name or URL, no SDL).
var ErrInvalid = errors.New("invalid request")

// ErrUnknownSubgraph is returned when deleting a subgraph that is not
// registered.
var ErrUnknownSubgraph = errors.New("no such subgraph")

// Options configures a Registry.
type Options struct {
	Store Store
	// Baseline is the supergraph served while the registry is empty. The
	// first version of an empty registry is not checked for breaking
	// changes against it (it seeds the registry), but its outcome names the
	// baseline's subgraphs it leaves out.
	Baseline *schema.Supergraph
	// HTTPClient fetches `_service { sdl }` for introspect publishes.
	HTTPClient *http.Client
	Logger     *slog.Logger
	// IntrospectHosts are the hosts introspect publishes may fetch from
	// (registry.introspect_hosts); empty refuses introspect publishes.
	IntrospectHosts []string
	// MaxSDLBytes caps a subgraph schema; 0 is DefaultMaxSDLBytes.
	MaxSDLBytes int
}

// DefaultMaxSDLBytes is the default cap of a published subgraph schema.
const DefaultMaxSDLBytes = 1 << 20

// maxNameBytes caps a subgraph name.
const maxNameBytes = 64

// MaxTypeMembers caps the fields, enum values, union members or
// arguments of one definition in a published schema: schema validation
// checks them for duplicates pairwise, so 40,000 enum values took 20 s
// of a core (and 200,000 minutes) past the admin deadline.
const MaxTypeMembers = 2000

// checkShape refuses schemas with definitions too large to validate in
// bounded time. Parsing is linear; what it refuses is never composed.
func checkShape(sdl string) error {
	doc, err := parser.ParseSchema(&ast.Source{Input: sdl})
	if err != nil {
		return nil // composition reports it
	}
	check := func(kind, name string, n int) error {
		if n > MaxTypeMembers {
			return fmt.Errorf("%w: sdl: %s %s has %d members; at most %d", ErrInvalid, kind, clip(name), n, MaxTypeMembers)
		}
		return nil
	}
	for _, list := range []ast.DefinitionList{doc.Definitions, doc.Extensions} {
		for _, d := range list {
			if err := check("type", d.Name, len(d.Fields)+len(d.EnumValues)+len(d.Types)+len(d.Interfaces)); err != nil {
				return err
			}
			for _, f := range d.Fields {
				if err := check("field", d.Name+"."+f.Name, len(f.Arguments)); err != nil {
					return err
				}
			}
		}
	}
	for _, d := range doc.Directives {
		if err := check("directive", d.Name, len(d.Arguments)+len(d.Locations)); err != nil {
			return err
		}
	}
	return nil
}

// Registry composes published subgraphs into supergraph versions kept in
// a Store, and hands each new current version to the apply function given
// to Run.
type Registry struct {
	store    Store
	baseline *schema.Supergraph
	http     *http.Client
	log      *slog.Logger
	hosts    map[string]bool
	maxSDL   int

	writeMu sync.Mutex // serializes this process's commits

	applyMu sync.Mutex
	apply   func(*schema.Supergraph) error
	applied int64
	served  *schema.Supergraph
	loaded  map[int64]*schema.Supergraph // just-composed supergraphs, not yet applied
	// storeDown is set while the store cannot be read, so the failure is
	// logged once, not every poll.
	storeDown bool
}

// New returns a registry on opts.Store.
func New(opts Options) *Registry {
	r := &Registry{store: opts.Store, baseline: opts.Baseline, http: opts.HTTPClient, log: opts.Logger,
		loaded: map[int64]*schema.Supergraph{}}
	if r.http == nil {
		r.http = &http.Client{Timeout: 30 * time.Second}
	}
	if r.log == nil {
		r.log = slog.Default()
	}
	r.hosts = map[string]bool{}
	for _, h := range opts.IntrospectHosts {
		r.hosts[strings.ToLower(h)] = true
	}
	r.maxSDL = opts.MaxSDLBytes
	if r.maxSDL <= 0 {
		r.maxSDL = DefaultMaxSDLBytes
	}
	return r
}

// Load reads the current version and returns its supergraph, or nil when
// the registry is empty. The gateway serves it from the start.
func (r *Registry) Load(ctx context.Context) (*schema.Supergraph, error) {
	v, err := r.store.Current(ctx)
	if err != nil || v == nil {
		return nil, err
	}
	sg, err := schema.Load(v.Supergraph)
	if err != nil {
		return nil, fmt.Errorf("registry: version %d: %w", v.Number, err)
	}
	r.applyMu.Lock()
	r.applied, r.served = v.Number, sg
	r.applyMu.Unlock()
	return sg, nil
}

// Run hands every new current version to apply (the gateway's hot swap)
// until ctx ends: versions committed here at once, versions committed by
// other instances when the store announces them.
func (r *Registry) Run(ctx context.Context, apply func(*schema.Supergraph) error) {
	r.applyMu.Lock()
	r.apply = apply
	r.applyMu.Unlock()
	r.sync(ctx, 0)
	r.store.Watch(ctx, func(n int64) { r.sync(ctx, n) })
}

// sync applies the store's current version when it is newer than the one
// applied (n is a hint: nothing to do when it is not newer).
func (r *Registry) sync(ctx context.Context, n int64) {
	r.applyMu.Lock()
	defer r.applyMu.Unlock()
	// Versions only grow, except when the store lost them (a Redis
	// without persistence restarted): any other number is news.
	if r.apply == nil || (n != 0 && n == r.applied) {
		return
	}
	v, err := r.store.Current(ctx)
	if err != nil {
		if !r.storeDown && ctx.Err() == nil {
			r.log.Error("registry: cannot read the current version; still serving the previous one", "err", err.Error())
		}
		r.storeDown = true
		return
	}
	if r.storeDown {
		r.log.Info("registry: store reachable again")
		r.storeDown = false
	}
	if v == nil || v.Number == r.applied {
		return
	}
	sg := r.loaded[v.Number]
	r.loaded = map[int64]*schema.Supergraph{}
	if sg == nil {
		if sg, err = schema.Load(v.Supergraph); err != nil {
			r.log.Error("registry: version does not load; still serving the previous one", "version", v.Number, "err", err.Error())
			r.applied = v.Number
			return
		}
	}
	if err := r.apply(sg); err != nil {
		r.log.Error("registry: swap failed; still serving the previous version", "version", v.Number, "err", err.Error())
		r.applied = v.Number
		return
	}
	r.applied, r.served = v.Number, sg
	r.log.Info("registry: serving supergraph version", "version", v.Number, "reason", v.Reason, "subgraphs", len(v.Subgraphs))
}

// Applied returns the number of the version being served (0: none yet).
func (r *Registry) Applied() int64 {
	r.applyMu.Lock()
	defer r.applyMu.Unlock()
	return r.applied
}

// CompositionError is one composition error, as the admin API returns it.
type CompositionError struct {
	Code       string `json:"code"`
	Message    string `json:"message"`
	Subgraph   string `json:"subgraph,omitempty"`
	Coordinate string `json:"coordinate,omitempty"`
}

// Outcome is the result of a publish, check, delete or rollback.
type Outcome struct {
	// OK is false when composition failed, or when breaking changes were
	// found and not forced.
	OK bool `json:"ok"`
	// Published is true when a new version was committed.
	Published bool `json:"published"`
	// Version is the current version after the request.
	Version int64              `json:"version"`
	Errors  []CompositionError `json:"errors,omitempty"`
	Changes []diff.Change      `json:"changes"`
	// Breaking counts the BREAKING changes.
	Breaking int      `json:"breaking"`
	Hints    []string `json:"hints,omitempty"`
	Message  string   `json:"message,omitempty"`
}

// PublishRequest publishes one subgraph.
type PublishRequest struct {
	Name string
	URL  string
	// SDL is the subgraph schema; empty with Introspect asks URL for
	// `_service { sdl }`.
	SDL        string
	Introspect bool
	// Force publishes despite breaking changes.
	Force bool
}

// clip cuts s for an error message.
func clip(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}

var namePattern = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_-]*$`)

func (r *Registry) resolve(ctx context.Context, req *PublishRequest) error {
	if len(req.Name) > maxNameBytes || !namePattern.MatchString(req.Name) {
		return fmt.Errorf("%w: subgraph name %q: want at most %d letters, digits, _ and -", ErrInvalid, clip(req.Name), maxNameBytes)
	}
	if req.URL == "" {
		return fmt.Errorf("%w: url: missing", ErrInvalid)
	}
	u, err := url.Parse(req.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%w: url: want an http:// or https:// URL", ErrInvalid)
	}
	if len(req.SDL) > r.maxSDL {
		return fmt.Errorf("%w: sdl: larger than registry.max_sdl_bytes (%d)", ErrInvalid, r.maxSDL)
	}
	if req.SDL == "" {
		if !req.Introspect {
			return fmt.Errorf("%w: sdl: missing (or set introspect)", ErrInvalid)
		}
		if !r.hosts[strings.ToLower(u.Host)] && !r.hosts[strings.ToLower(u.Hostname())] {
			// Nothing is fetched: the error says the same for every host
			// not listed, so the admin API tells nothing about the network.
			return fmt.Errorf("%w: introspect: host %q is not in registry.introspect_hosts", ErrInvalid, clip(u.Host))
		}
		sdl, err := compose.FetchSDL(ctx, r.http, req.URL, nil)
		if err != nil {
			return fmt.Errorf("%w: introspect: %v", ErrInvalid, err)
		}
		if len(sdl) > r.maxSDL {
			return fmt.Errorf("%w: introspect: the SDL is larger than registry.max_sdl_bytes (%d)", ErrInvalid, r.maxSDL)
		}
		req.SDL = sdl
	}
	return checkShape(req.SDL)
}

// Publish composes the subgraph with the registered ones and, when that
// composes and has no breaking change (or Force), commits a new version
// and serves it. A publish that does not compose changes nothing.
func (r *Registry) Publish(ctx context.Context, req PublishRequest) (*Outcome, error) {
	return r.PublishSet(ctx, []PublishRequest{req}, req.Force)
}

// Check is Publish without committing anything.
func (r *Registry) Check(ctx context.Context, req PublishRequest) (*Outcome, error) {
	return r.CheckSet(ctx, []PublishRequest{req})
}

// PublishSet publishes several subgraphs as one version: they are composed
// together with the other registered subgraphs, so their order does not
// matter, and either all of them are published or none. Seeding an empty
// registry from a rover supergraph.yaml is one PublishSet.
func (r *Registry) PublishSet(ctx context.Context, reqs []PublishRequest, force bool) (*Outcome, error) {
	if err := r.resolveSet(ctx, reqs); err != nil {
		return nil, err
	}
	return r.change(ctx, true, force, "publish "+setNames(reqs), func(cur []Subgraph) ([]Subgraph, error) {
		return withSubgraphs(cur, reqs), nil
	})
}

// CheckSet is PublishSet without committing anything.
func (r *Registry) CheckSet(ctx context.Context, reqs []PublishRequest) (*Outcome, error) {
	if err := r.resolveSet(ctx, reqs); err != nil {
		return nil, err
	}
	return r.change(ctx, false, false, "check "+setNames(reqs), func(cur []Subgraph) ([]Subgraph, error) {
		return withSubgraphs(cur, reqs), nil
	})
}

// maxSet bounds the subgraphs of one PublishSet.
const maxSet = 500

// resolveSet checks every request (and fetches the SDL of introspect
// ones); a name given twice is refused.
func (r *Registry) resolveSet(ctx context.Context, reqs []PublishRequest) error {
	if len(reqs) == 0 {
		return fmt.Errorf("%w: no subgraphs", ErrInvalid)
	}
	if len(reqs) > maxSet {
		return fmt.Errorf("%w: %d subgraphs, at most %d at once", ErrInvalid, len(reqs), maxSet)
	}
	seen := map[string]bool{}
	for i := range reqs {
		if seen[reqs[i].Name] {
			return fmt.Errorf("%w: subgraph %q given twice", ErrInvalid, reqs[i].Name)
		}
		seen[reqs[i].Name] = true
		if err := r.resolve(ctx, &reqs[i]); err != nil {
			return err
		}
	}
	return nil
}

func setNames(reqs []PublishRequest) string {
	names := make([]string, len(reqs))
	for i, req := range reqs {
		names[i] = req.Name
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

// Delete removes a subgraph; removing its fields from the API is a
// breaking change, so it usually needs force.
func (r *Registry) Delete(ctx context.Context, name string, force bool) (*Outcome, error) {
	return r.change(ctx, true, force, "delete "+name, func(cur []Subgraph) ([]Subgraph, error) {
		var out []Subgraph
		for _, s := range cur {
			if s.Name != name {
				out = append(out, s)
			}
		}
		if len(out) == len(cur) {
			return nil, fmt.Errorf("%w: %q", ErrUnknownSubgraph, name)
		}
		return out, nil
	})
}

// Rollback commits a new version with the subgraphs and supergraph of
// version n. Breaking changes are reported but not refused: a rollback is
// an operator's deliberate act.
func (r *Registry) Rollback(ctx context.Context, n int64) (*Outcome, error) {
	old, err := r.store.Get(ctx, n)
	if errors.Is(err, ErrNotFound) {
		return nil, fmt.Errorf("%w: version %d does not exist", ErrInvalid, n)
	}
	if err != nil {
		return nil, err
	}
	return r.change(ctx, true, true, "rollback to "+strconv.FormatInt(n, 10), func([]Subgraph) ([]Subgraph, error) {
		return old.Subgraphs, nil
	})
}

// withSubgraphs returns cur with each of reqs added or replaced, sorted by
// name; an unchanged subgraph keeps its revision.
func withSubgraphs(cur []Subgraph, reqs []PublishRequest) []Subgraph {
	byName := map[string]Subgraph{}
	for _, s := range cur {
		byName[s.Name] = s
	}
	now := time.Now().UTC()
	for _, req := range reqs {
		next := Subgraph{Name: req.Name, URL: req.URL, SDL: req.SDL, Revision: 1, UpdatedAt: now}
		if s, ok := byName[req.Name]; ok {
			if s.URL == req.URL && s.SDL == req.SDL {
				next = s // unchanged
			} else {
				next.Revision = s.Revision + 1
			}
		}
		byName[req.Name] = next
	}
	out := make([]Subgraph, 0, len(byName))
	for _, s := range byName {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// change computes the next subgraph list with mutate, composes it, diffs
// its API schema against the current one and, when commit is set and the
// checks pass, commits it. It retries when another instance committed in
// between.
func (r *Registry) change(ctx context.Context, commit, force bool, reason string, mutate func([]Subgraph) ([]Subgraph, error)) (*Outcome, error) {
	if commit {
		r.writeMu.Lock()
		defer r.writeMu.Unlock()
	}
	for attempt := 0; ; attempt++ {
		out, err := r.try(ctx, commit, force, reason, mutate)
		if errors.Is(err, ErrConflict) && attempt < 5 {
			continue
		}
		return out, err
	}
}

func (r *Registry) try(ctx context.Context, commit, force bool, reason string, mutate func([]Subgraph) ([]Subgraph, error)) (*Outcome, error) {
	cur, err := r.store.Current(ctx)
	if err != nil {
		return nil, err
	}
	var curSubs []Subgraph
	var curNumber int64
	// An empty store that this process never served a version of is a
	// new registry: its first version is diffed against nothing (every
	// type is new), not against the supergraph configured to be served
	// until then. A store that lost the versions this process serves
	// (a Redis without persistence restarted) is diffed against them.
	oldAPI, seeding := r.servedVersion(), false
	if cur == nil && oldAPI == nil {
		seeding = true
	}
	if cur != nil {
		curSubs, curNumber = cur.Subgraphs, cur.Number
		old, err := schema.Load(cur.Supergraph)
		if err != nil {
			return nil, fmt.Errorf("registry: current version %d: %w", cur.Number, err)
		}
		oldAPI = old
	}
	next, err := mutate(curSubs)
	if err != nil {
		return nil, err
	}
	out := &Outcome{Version: curNumber, Changes: []diff.Change{}}
	input := make([]compose.Subgraph, len(next))
	for i, s := range next {
		input[i] = compose.Subgraph{Name: s.Name, URL: s.URL, SDL: s.SDL}
	}
	res, err := compose.Compose(input)
	if err != nil {
		var list compose.Errors
		if !errors.As(err, &list) {
			list = compose.Errors{{Code: "INVALID_GRAPHQL", Message: err.Error()}}
		}
		for _, e := range list {
			out.Errors = append(out.Errors, CompositionError{Code: e.Code, Message: e.Message, Subgraph: e.Subgraph, Coordinate: e.Coordinate})
		}
		out.Message = fmt.Sprintf("composition failed with %d error(s); nothing changed", len(list))
		if seeding {
			out.Message += "; the registry is empty: publish the subgraphs that need each other together (gateway subgraph publish --config supergraph.yaml)"
		}
		return out, nil
	}
	for _, h := range res.Hints {
		out.Hints = append(out.Hints, h.Code+": "+h.Message)
	}
	if oldAPI != nil {
		out.Changes = diff.Schemas(oldAPI.API, res.Supergraph.API)
		out.Changes = append(out.Changes, diff.Security(oldAPI.Full, res.Supergraph.Full)...)
	} else {
		out.Changes = diff.Schemas(nil, res.Supergraph.API)
	}
	if seeding {
		out.Message = r.seedNote(next)
	}
	out.Breaking = len(diff.BreakingOnly(out.Changes))
	out.OK = out.Breaking == 0 || force
	if !out.OK {
		out.Message = fmt.Sprintf("%d breaking change(s); %s", out.Breaking, forceAdvice(reason))
	}
	if !commit || !out.OK {
		return out, nil
	}
	if cur != nil && res.SDL == cur.Supergraph && sameSubgraphs(cur.Subgraphs, next) {
		out.Message = "unchanged"
		return out, nil
	}
	v := &Version{Number: curNumber + 1, CreatedAt: time.Now().UTC(), Reason: reason, Subgraphs: next, Supergraph: res.SDL}
	if err := r.store.Commit(ctx, curNumber, v); err != nil {
		return nil, err
	}
	r.applyMu.Lock()
	r.loaded[v.Number] = res.Supergraph
	r.applyMu.Unlock()
	out.Published, out.Version = true, v.Number
	r.sync(ctx, v.Number)
	return out, nil
}

// forceAdvice says how to accept the breaking changes of the change
// named by reason ("publish a", "check a", "delete a"): the same request
// again with force, or for a check, the publish it stands for.
func forceAdvice(reason string) string {
	action, _, _ := strings.Cut(reason, " ")
	switch action {
	case "check":
		return "a publish needs force (?force=true) to accept them"
	case "delete":
		return "delete again with force (?force=true) to accept them"
	}
	return "publish again with force (?force=true) to accept them"
}

// servedVersion is the registry version this process serves, nil while
// it serves the configured baseline.
func (r *Registry) servedVersion() *schema.Supergraph {
	r.applyMu.Lock()
	defer r.applyMu.Unlock()
	return r.served
}

// seedNote says what the first version of an empty registry replaces:
// the baseline, and which of its subgraphs the version leaves out.
func (r *Registry) seedNote(next []Subgraph) string {
	note := "the first version of an empty registry: it replaces the configured supergraph"
	if r.baseline == nil {
		return note
	}
	have := map[string]bool{}
	for _, s := range next {
		have[s.Name] = true
	}
	var missing []string
	for _, g := range r.baseline.Graphs {
		if !have[g.Name] {
			missing = append(missing, g.Name)
		}
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		note += " and leaves out its subgraph(s) " + strings.Join(missing, ", ")
	}
	return note
}

func sameSubgraphs(a, b []Subgraph) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Name != b[i].Name || a[i].URL != b[i].URL || a[i].SDL != b[i].SDL {
			return false
		}
	}
	return true
}

// Current returns the current version (nil when empty).
func (r *Registry) Current(ctx context.Context) (*Version, error) { return r.store.Current(ctx) }

// History returns every version, oldest first.
func (r *Registry) History(ctx context.Context) ([]*Version, error) { return r.store.History(ctx) }
