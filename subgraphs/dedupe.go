package subgraphs

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"net/http"
	"sort"
	"sync/atomic"

	"github.com/fedgate/gateway/auth"
	"github.com/fedgate/gateway/executor"
	"golang.org/x/sync/singleflight"
)

// Dedupe is an executor.Transport that shares one subgraph call between
// identical concurrent query fetches: same subgraph, same body (query and
// variables) and same forwarded headers. Mutations always go through.
// The zero value is not usable; use NewDedupe.
type Dedupe struct {
	next  executor.Transport
	group singleflight.Group
	// shared counts fetches answered by another caller's call.
	shared *atomic.Int64
}

// NewDedupe wraps next; shared, when not nil, counts the fetches answered
// by another caller's call.
func NewDedupe(next executor.Transport, shared *atomic.Int64) *Dedupe {
	if shared == nil {
		shared = new(atomic.Int64)
	}
	return &Dedupe{next: next, shared: shared}
}

// Shared returns how many fetches were answered by another caller's call.
func (d *Dedupe) Shared() int64 { return d.shared.Load() }

// Unwrap returns the wrapped transport.
func (d *Dedupe) Unwrap() executor.Transport { return d.next }

type dedupeResult struct {
	body         []byte
	cacheControl string
}

// Fetch implements executor.Transport. The call runs without the first
// caller's cancellation (the transport's own timeout bounds it); each
// caller stops waiting when its own context ends. Callers share one copy
// of the answer, which the executor only reads.
func (d *Dedupe) Fetch(ctx context.Context, subgraph string, req *executor.Request) (*executor.Response, error) {
	if req.Mutation {
		return d.next.Fetch(ctx, subgraph, req)
	}
	key := dedupeKey(ctx, subgraph, req)
	ch := d.group.DoChan(key, func() (_ any, err error) {
		defer func() {
			// singleflight would re-panic where nothing recovers.
			if p := recover(); p != nil {
				err = &executor.FetchError{Code: "SUBREQUEST_HTTP_ERROR", Message: fmt.Sprintf("transport panic: %v", p)}
			}
		}()
		resp, err := d.next.Fetch(context.WithoutCancel(ctx), subgraph, req)
		if err != nil {
			return nil, err
		}
		r := &dedupeResult{body: append([]byte(nil), resp.Body...), cacheControl: resp.CacheControl}
		if resp.Release != nil {
			resp.Release()
		}
		return r, nil
	})
	select {
	case res := <-ch:
		if res.Shared {
			d.shared.Add(1)
		}
		if res.Err != nil {
			return nil, res.Err
		}
		r := res.Val.(*dedupeResult)
		return &executor.Response{Body: r.body, CacheControl: r.cacheControl}, nil
	case <-ctx.Done():
		return nil, &executor.FetchError{Code: "SUBREQUEST_TIMEOUT", Message: "the request ended while waiting for a shared subgraph call"}
	}
}

// dedupeKey hashes the subgraph, the body, the headers (names sorted,
// values in order) and the caller's identity, each length-prefixed so
// that no two requests collide by concatenation. The identity keeps
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
	for _, k := range names {
		field([]byte(http.CanonicalHeaderKey(k)))
		for _, v := range req.Header[k] {
			field([]byte(v))
		}
	}
	return string(h.Sum(nil))
}
