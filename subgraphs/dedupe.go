package subgraphs

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"net/http"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/fedgate/gateway/auth"
	"github.com/fedgate/gateway/executor"
)

// Dedupe is an executor.Transport that shares one subgraph call between
// identical concurrent query fetches: same subgraph, same body (query and
// variables), same forwarded headers and same caller. Mutations always go
// through. The zero value is not usable; use NewDedupe.
//
// The first caller makes the call itself, in its own goroutine and with
// its own context, so a fetch nobody shares costs a map entry and no
// copy. Callers that join wait for it (each until its own context ends)
// and share one copy of the answer. When the first caller's request ends
// before the answer, its call is cancelled and the callers still waiting
// make the call again among themselves.
type Dedupe struct {
	next executor.Transport
	// shared counts fetches answered by another caller's call.
	shared *atomic.Int64

	mu      sync.Mutex
	flights map[string]*flight
}

// flight is one call in progress and, once done is closed, its outcome.
type flight struct {
	done      chan struct{}
	leaderCtx context.Context
	joined    int // callers waiting besides the one making the call
	body      []byte
	cache     string
	err       error
}

// NewDedupe wraps next; shared, when not nil, counts the fetches answered
// by another caller's call.
func NewDedupe(next executor.Transport, shared *atomic.Int64) *Dedupe {
	if shared == nil {
		shared = new(atomic.Int64)
	}
	return &Dedupe{next: next, shared: shared, flights: map[string]*flight{}}
}

// Shared returns how many fetches were answered by another caller's call.
func (d *Dedupe) Shared() int64 { return d.shared.Load() }

// Unwrap returns the wrapped transport.
func (d *Dedupe) Unwrap() executor.Transport { return d.next }

// Fetch implements executor.Transport.
func (d *Dedupe) Fetch(ctx context.Context, subgraph string, req *executor.Request) (*executor.Response, error) {
	if req.Mutation {
		return d.next.Fetch(ctx, subgraph, req)
	}
	key := dedupeKey(ctx, subgraph, req)
	for {
		d.mu.Lock()
		f, ok := d.flights[key]
		if !ok {
			f = &flight{done: make(chan struct{}), leaderCtx: ctx}
			d.flights[key] = f
			d.mu.Unlock()
			return d.lead(ctx, key, f, subgraph, req)
		}
		f.joined++
		d.mu.Unlock()
		select {
		case <-f.done:
		case <-ctx.Done():
			return nil, &executor.FetchError{Code: "SUBREQUEST_TIMEOUT", Message: "the request ended while waiting for a shared subgraph call"}
		}
		if f.err != nil && f.leaderCtx.Err() != nil && ctx.Err() == nil {
			continue // the caller making the call left: call again
		}
		d.shared.Add(1)
		if f.err != nil {
			return nil, f.err
		}
		return &executor.Response{Body: f.body, CacheControl: f.cache}, nil
	}
}

// lead makes the call of flight f and hands its outcome to the callers
// that joined: the transport's answer itself when nobody did, else one
// copy they share (the executor only reads it).
func (d *Dedupe) lead(ctx context.Context, key string, f *flight, subgraph string, req *executor.Request) (resp *executor.Response, err error) {
	defer func() {
		if p := recover(); p != nil {
			resp, err = nil, &executor.FetchError{Code: "SUBREQUEST_HTTP_ERROR", Message: fmt.Sprintf("transport panic: %v", p)}
		}
		d.mu.Lock()
		delete(d.flights, key)
		joined := f.joined
		d.mu.Unlock()
		if joined > 0 {
			f.err = err
			if err == nil {
				f.body, f.cache = append([]byte(nil), resp.Body...), resp.CacheControl
			}
		}
		close(f.done)
	}()
	return d.next.Fetch(ctx, subgraph, req)
}

// dedupeKey hashes the subgraph, the body, the headers (names sorted,
// values in order, each name with its count of values) and the caller's
// identity, each length-prefixed so that no two requests collide by
// concatenation. The identity keeps
// callers apart even when a transport below adds per-caller headers.
func dedupeKey(ctx context.Context, subgraph string, req *executor.Request) string {
	h := sha256.New()
	field := func(s []byte) {
		var n [8]byte
		binary.LittleEndian.PutUint64(n[:], uint64(len(s)))
		h.Write(n[:])
		h.Write(s)
	}
	field([]byte(subgraph))
	field(req.Body)
	if c := auth.CallerFrom(ctx); c != nil {
		iss, _ := c.Claims["iss"].(string)
		field([]byte(iss))
		field([]byte(c.Subject))
	} else {
		field(nil)
		field(nil)
	}
	names := make([]string, 0, len(req.Header))
	for k := range req.Header {
		names = append(names, k)
	}
	sort.Strings(names)
	count := func(n int) {
		var b [8]byte
		binary.LittleEndian.PutUint64(b[:], uint64(n))
		h.Write(b[:])
	}
	// The number of names, and of each name's values, delimits them: the
	// values of one name never read as another name and its values.
	count(len(names))
	for _, k := range names {
		field([]byte(http.CanonicalHeaderKey(k)))
		count(len(req.Header[k]))
		for _, v := range req.Header[k] {
			field([]byte(v))
		}
	}
	return string(h.Sum(nil))
}
