package difftest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/vektah/gqlparser/v2/ast"

	"github.com/fedgate/gateway/internal/opgen"
)

// Endpoint is one gateway's GraphQL endpoint for one graph.
type Endpoint struct {
	Name string
	URL  string
}

// Generator makes the operation for a seed: opgen.Generator (random walks
// over the schema) and mutate.Generator (rewritten real operations) are.
type Generator interface {
	Generate(seed uint64) (opgen.Operation, error)
}

// Graph is one supergraph under test: its API schema, the generator of its
// operations, fedgate's endpoint and the references'.
type Graph struct {
	Name    string
	API     *ast.Schema
	Gen     Generator
	Fedgate Endpoint
	Refs    []Endpoint
}

// Case is one generated operation whose answers did not agree.
type Case struct {
	Graph   string
	Seed    uint64
	Index   int
	Verdict Verdict
	// Op is the operation as generated; Min the minimized one, which the
	// answers are for.
	Op, Min opgen.Operation
	Answers []Answer
}

// Answer is one gateway's answer in a Case.
type Answer struct {
	Gateway string
	Result  Result
}

// Stats counts the verdicts of a run.
type Stats struct {
	Ops                       int
	Agree, Differs, Review    int
	RefsDisagree, RefsCrashed int
	// RefsSplit counts operations where the references disagree and
	// fedgate's answer is made of theirs (Patchwork).
	RefsSplit int
	// ErrorsDiffer counts operations whose errors' details differ
	// (Runner.StrictErrors).
	ErrorsDiffer int
	// RefsDied counts operations a reference crashed or timed out on
	// (RefDied).
	RefsDied           int
	AliasDivergence    int
	DocumentDivergence int
	GeneratorFailures  int
	// KnownDiffer and KnownAgree list the indexes of known cases that
	// still differ, and that agree now.
	KnownDiffer, KnownAgree []int
}

// Runner sends operations to the gateways of a Graph.
type Runner struct {
	Client *http.Client
	// Timeout bounds one request (default 6m: above what a Reference's
	// front may take, two deadlines and two restarts).
	Timeout time.Duration
	// ShrinkBudget bounds the re-runs spent minimizing one case (default
	// 150; 0 is the default, negative disables minimizing).
	ShrinkBudget int
	// Workers is the number of operations in flight (default 2).
	Workers int
	// Keep lists the verdicts besides Differs whose cases Run returns.
	Keep []Verdict
	// ShrinkReview minimizes Review cases too (Differs cases always are).
	ShrinkReview bool
	// AliasCheck re-asks a differing operation with its aliases renamed
	// (see RenameAliases) and calls it AliasDivergence when the references
	// then agree with fedgate's first answer; failing that, when the
	// document has several operations, with the others left out (see
	// SelectedOnly; aliases renamed too), and calls it DocumentDivergence
	// when the references then agree with fedgate's first answer.
	AliasCheck bool
	// StrictErrors judges, where Judge finds the answers alike (or every
	// gateway refused the request before execution), the errors' details
	// too: ErrorsDiffer when the references agree on them with each other
	// and fedgate does not (ErrorDetailsDiffer).
	StrictErrors bool
}

// OpHash is a short digest of an operation (document, name, variables),
// which pins a known case to the operation it was recorded for.
func OpHash(op opgen.Operation) string {
	vars, _ := json.Marshal(op.Variables)
	sum := sha256.Sum256([]byte(op.Query + "\x00" + op.OperationName + "\x00" + string(vars)))
	return hex.EncodeToString(sum[:4])
}

// OpSeed is the generator seed of operation index of a run with seed.
func OpSeed(seed uint64, index int) uint64 { return seed<<24 | uint64(index) }

// Run generates n operations of g from seed and compares the answers.
// known(index) marks operations known to differ: they run, are not
// minimized, and come back in Stats rather than as cases. Cases come back
// sorted by index.
func (r *Runner) Run(ctx context.Context, g *Graph, seed uint64, n int, known func(int) bool) ([]Case, Stats) {
	workers := r.Workers
	if workers <= 0 {
		workers = 2
	}
	var (
		mu    sync.Mutex
		cases []Case
		st    Stats
		wg    sync.WaitGroup
	)
	next := make(chan int)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				isKnown := known != nil && known(i)
				c, v, err := r.one(ctx, g, seed, i, !isKnown)
				mu.Lock()
				st.Ops++
				switch {
				case isKnown && err == nil && v == Differs:
					st.KnownDiffer = append(st.KnownDiffer, i)
				case isKnown && err == nil && v == Agree:
					st.KnownAgree = append(st.KnownAgree, i)
				case err != nil:
					st.GeneratorFailures++
					cases = append(cases, Case{Graph: g.Name, Seed: seed, Index: i, Verdict: Differs, Min: opgen.Operation{Query: "generator failed: " + err.Error()}})
				default:
					switch v {
					case Agree:
						st.Agree++
					case Differs:
						st.Differs++
					case Review:
						st.Review++
					case RefsDisagree:
						st.RefsDisagree++
					case RefsCrashed:
						st.RefsCrashed++
					case AliasDivergence:
						st.AliasDivergence++
					case DocumentDivergence:
						st.DocumentDivergence++
					case RefDied:
						st.RefsDied++
					case RefsSplit:
						st.RefsSplit++
					case ErrorsDiffer:
						st.ErrorsDiffer++
					}
					if v == Differs || v == ErrorsDiffer || slices.Contains(r.Keep, v) {
						cases = append(cases, c)
					}
				}
				mu.Unlock()
			}
		}()
	}
	for i := 0; i < n && ctx.Err() == nil; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
	sort.Slice(cases, func(i, j int) bool { return cases[i].Index < cases[j].Index })
	sort.Ints(st.KnownDiffer)
	sort.Ints(st.KnownAgree)
	return cases, st
}

func (r *Runner) one(ctx context.Context, g *Graph, seed uint64, i int, shrink bool) (Case, Verdict, error) {
	op, err := g.Gen.Generate(OpSeed(seed, i))
	if err != nil {
		return Case{}, Differs, err
	}
	v, answers := r.verdict(ctx, g, op)
	c := Case{Graph: g.Name, Seed: seed, Index: i, Verdict: v, Op: op, Min: op, Answers: answers}
	// A RefDied case is not minimized: each try may cost a reference
	// two deadlines and a restart.
	if !(v == Differs || (v == Review && r.ShrinkReview)) || r.ShrinkBudget < 0 || !shrink {
		return c, v, nil
	}
	budget := r.ShrinkBudget
	if budget == 0 {
		budget = 150
	}
	var last []Answer
	c.Min = Shrink(g.API, op, func(cand opgen.Operation) bool {
		cv, a := r.verdict(ctx, g, cand)
		if cv == v {
			last = a
			return true
		}
		return false
	}, budget)
	if last != nil {
		c.Answers = last
	}
	return c, v, nil
}

// verdict asks every gateway and judges the answers. With AliasCheck, an
// operation with aliases that does not simply agree is asked again with
// its aliases renamed (RenameAliases), and fedgate's first answer is
// judged against the references' answers to that, keys renamed back: when
// they agree with it, the difference was the references' alias handling
// (AliasDivergence); when they agree with each other but not with it, it
// is a difference even if the references crashed or disagreed on the
// original operation. The renamed answers are appended, labelled. When
// that decides nothing and the document has several operations, the same
// holds for the references asked the running operation alone
// (SelectedOnly, its aliases renamed too): agreeing with fedgate then,
// the difference was the references' handling of the other operations
// (DocumentDivergence).
//
// An operation with @defer is asked of the references without it
// (StripDefer), and of fedgate also incrementally: the merged payloads
// must be fedgate's answer without incremental delivery, else it differs.
func (r *Runner) verdict(ctx context.Context, g *Graph, op opgen.Operation) (Verdict, []Answer) {
	v, answers := r.verdictPlain(ctx, g, op)
	if !HasDefer(op) {
		return v, answers
	}
	merged := r.post(ctx, g.Fedgate.URL, op, incrementalAccept)
	answers = append(answers, Answer{Gateway: "fedgate (incremental, payloads merged)", Result: merged})
	if !SameUnordered(merged, answers[0].Result) && !erredAlike(merged, answers[0].Result) {
		return Differs, answers
	}
	return v, answers
}

// erredAlike reports whether the merged incremental answer inc and the
// one-body answer one both have errors. Then their data and error paths
// may differ by design: a non-null field error inside a deferred fragment
// nulls that fragment's entry only (the primary data already went out); a
// field that fails in two parts' fetches is reported by each part, where
// one fetch reports only its first failure (the subgraph stops at the
// null it propagates); a failing field the primary fetches only as a
// @requires input is reported at the client's field that needs it.
func erredAlike(inc, one Result) bool {
	return inc.Failure == "" && one.Failure == "" && len(inc.Errors) > 0 && len(one.Errors) > 0
}

func (r *Runner) verdictPlain(ctx context.Context, g *Graph, op opgen.Operation) (Verdict, []Answer) {
	answers := r.ask(ctx, g, op)
	for _, a := range answers[1:] {
		if a.Result.Died != "" {
			return RefDied, answers
		}
	}
	v := judge(answers)
	if r.StrictErrors && r.strictDiffers(v, answers) {
		return ErrorsDiffer, answers
	}
	if v == Agree || !r.AliasCheck {
		return v, answers
	}
	if renamed, back, ok := RenameAliases(op); ok {
		switch again, labelled := r.recheck(ctx, g, answers, renamed, back, "aliases renamed, keys renamed back"); again {
		case Agree:
			return AliasDivergence, labelled
		case Differs:
			return Differs, labelled
		case RefsSplit:
			if v != Differs {
				return RefsSplit, labelled
			}
		}
	}
	only, ok := SelectedOnly(op)
	if !ok {
		return v, answers
	}
	label := "other operations left out"
	back := map[string]string(nil)
	if renamed, b, ok := RenameAliases(only); ok {
		only, back, label = renamed, b, label+", aliases renamed, keys renamed back"
	}
	switch again, labelled := r.recheck(ctx, g, answers, only, back, label); again {
	case Agree:
		return DocumentDivergence, labelled
	case Differs:
		return Differs, labelled
	case RefsSplit:
		if v != Differs {
			return RefsSplit, labelled
		}
	}
	return v, answers
}

// recheck asks the references again with other, a rewrite of the
// operation of answers that must not change its answer, renames their
// response keys by back, and judges fedgate's first answer against them.
// The rewritten answers are appended to answers, labelled.
func (r *Runner) recheck(ctx context.Context, g *Graph, answers []Answer, other opgen.Operation, back map[string]string, label string) (Verdict, []Answer) {
	again := r.ask(ctx, g, other)
	refs := make([]Result, 0, len(again)-1)
	labelled := answers
	for _, a := range again[1:] {
		res := a.Result.Renamed(back)
		refs = append(refs, res)
		shown := res
		paths, _ := json.Marshal(res.Errors)
		shown.Body = []byte(`{"data":` + res.Data + `,"errorPaths":` + string(paths) + `}`)
		labelled = append(labelled, Answer{Gateway: a.Gateway + " (" + label + ")", Result: shown})
	}
	return Judge(answers[0].Result, refs), labelled
}

// strictDiffers reports whether answers, judged v, differ in their
// errors' details (ErrorDetailsDiffer): for v Agree, or for v RefsCrashed
// when every gateway refused the request (validation, variable coercion).
func (r *Runner) strictDiffers(v Verdict, answers []Answer) bool {
	refs := plainRefs(answers)
	switch v {
	case Agree:
	case RefsCrashed:
		if !isRequestError(answers[0].Result) || slices.ContainsFunc(refs, func(x Result) bool { return !isRequestError(x) }) {
			return false
		}
	default:
		return false
	}
	differ, _ := ErrorDetailsDiffer(answers[0].Result, refs)
	return differ
}

func plainRefs(answers []Answer) []Result {
	refs := make([]Result, 0, len(answers)-1)
	for _, a := range answers[1:] {
		if strings.Contains(a.Gateway, "(") {
			continue
		}
		refs = append(refs, a.Result)
	}
	return refs
}

func judge(answers []Answer) Verdict {
	refs := make([]Result, 0, len(answers)-1)
	for _, a := range answers[1:] {
		if strings.Contains(a.Gateway, "(") {
			continue
		}
		refs = append(refs, a.Result)
	}
	return Judge(answers[0].Result, refs)
}

// ask sends op to fedgate and every reference, at once; the references
// get it without @defer (StripDefer).
func (r *Runner) ask(ctx context.Context, g *Graph, op opgen.Operation) []Answer {
	eps := append([]Endpoint{g.Fedgate}, g.Refs...)
	out := make([]Answer, len(eps))
	refOp := op
	if stripped, ok := StripDefer(op); ok {
		refOp = stripped
	}
	var wg sync.WaitGroup
	for i, ep := range eps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			o := refOp
			if i == 0 {
				o = op
			}
			out[i] = Answer{Gateway: ep.Name, Result: r.post(ctx, ep.URL, o, plainAccept)}
		}()
	}
	wg.Wait()
	return out
}

// Ask sends op to fedgate alone and returns its answer (one JSON body).
func (r *Runner) Ask(ctx context.Context, g *Graph, op opgen.Operation) Result {
	return r.post(ctx, g.Fedgate.URL, op, plainAccept)
}

// AskIncremental sends op to fedgate alone, accepting incremental
// delivery, and returns its payloads merged (MergeIncremental).
func (r *Runner) AskIncremental(ctx context.Context, g *Graph, op opgen.Operation) Result {
	return r.post(ctx, g.Fedgate.URL, op, incrementalAccept)
}

// plainAccept asks for one JSON response.
const plainAccept = "application/graphql-response+json, application/json"

// post sends op with the Accept header accept; an incremental answer is
// merged into one (MergeIncremental).
func (r *Runner) post(ctx context.Context, url string, op opgen.Operation, accept string) Result {
	timeout := r.Timeout
	if timeout <= 0 {
		timeout = 6 * time.Minute
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	body := map[string]any{"query": op.Query}
	if op.OperationName != "" {
		body["operationName"] = op.OperationName
	}
	if len(op.Variables) > 0 {
		body["variables"] = op.Variables
	}
	b, _ := json.Marshal(body)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(b))
	if err != nil {
		return Result{Failure: err.Error(), Data: "null"}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", accept)
	client := r.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return Result{Failure: err.Error(), Data: "null"}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
	if err != nil {
		return Result{Failure: err.Error(), Data: "null"}
	}
	if died := resp.Header.Get(DiedHeader); died != "" {
		return Result{Status: resp.StatusCode, Body: data, Failure: "reference " + died, Died: died, Data: "null"}
	}
	merged, err := MergeIncremental(resp.Header.Get("Content-Type"), data)
	if err != nil {
		return Result{Status: resp.StatusCode, Body: data, Failure: err.Error(), Data: "null"}
	}
	return Parse(resp.StatusCode, merged)
}

// Report prints a case: where to find it again, the minimized operation
// and every gateway's answer.
func (c Case) Report() string { return c.report(2000) }

// FullReport is Report with the answers in full, for report files read by
// tools.
func (c Case) FullReport() string { return c.report(-1) }

func (c Case) report(limit int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "graph %s, seed %d, operation %d: %s\n", c.Graph, c.Seed, c.Index, c.Verdict)
	if c.Min.OperationName != "" {
		fmt.Fprintf(&b, "operationName: %s\n", c.Min.OperationName)
	}
	if len(c.Min.Variables) > 0 {
		v, _ := json.Marshal(c.Min.Variables)
		fmt.Fprintf(&b, "variables: %s\n", v)
	}
	b.WriteString(strings.TrimSpace(c.Min.Query))
	b.WriteByte('\n')
	for _, a := range c.Answers {
		res := a.Result
		body := strings.TrimSpace(string(res.Body))
		if limit >= 0 && len(body) > limit {
			body = body[:limit] + "..."
		}
		if res.Failure != "" {
			body = res.Failure
		}
		fmt.Fprintf(&b, "%s (HTTP %d): %s\n", a.Gateway, res.Status, body)
	}
	if c.Verdict == ErrorsDiffer {
		var refs []Result
		for _, a := range c.Answers[1:] {
			if !strings.Contains(a.Gateway, "(") {
				refs = append(refs, a.Result)
			}
		}
		_, diff := ErrorDetailsDiffer(c.Answers[0].Result, refs)
		for _, d := range diff {
			fmt.Fprintf(&b, "  %s\n", d)
		}
	}
	return b.String()
}
