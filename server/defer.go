package server

import (
	"context"
	"net/http"
	"strings"

	"github.com/fedgate/gateway/executor"
	"github.com/fedgate/gateway/planner"
	"github.com/fedgate/gateway/telemetry"
)

// Incremental delivery of @defer over HTTP: multipart/mixed with
// deferSpec=20220824, the format Apollo Client and Relay ask for. A client
// whose Accept does not offer it gets the operation run unsplit, as one
// JSON body.

// multipartContentType is the response type of incremental delivery; the
// boundary "-" makes every part start with "\r\n---".
const multipartContentType = `multipart/mixed;boundary="-";deferSpec=20220824`

// acceptsIncremental reports whether an Accept header offers
// multipart/mixed with deferSpec=20220824 (or with no deferSpec, which
// Apollo's tools read as that one).
func acceptsIncremental(accept string) bool {
	for _, part := range strings.Split(accept, ",") {
		params := strings.Split(part, ";")
		if !strings.EqualFold(strings.TrimSpace(params[0]), "multipart/mixed") {
			continue
		}
		spec := ""
		for _, p := range params[1:] {
			k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
			if strings.EqualFold(k, "deferSpec") {
				spec = strings.Trim(v, `"`)
			}
		}
		if spec == "" || spec == "20220824" {
			return true
		}
	}
	return false
}

// incrementalStream returns the writer of the multipart answer of a query
// with @defer, run when the request pipeline is done with it.
func (s *Server) incrementalStream(ctx context.Context, a *answerInput) func(http.ResponseWriter) {
	return func(w http.ResponseWriter) {
		in := executor.Input{Variables: a.forwarded, Tracer: s.obs.tracer, RedactErrors: s.opts.redactErrors}
		s.subgraphHeaders(&in, a.hr)
		if s.opts.Introspection {
			rt, coerced := a.rt, a.coerced
			in.Introspect = func(buf []byte, f *planner.Field) []byte { return rt.intro.Field(buf, f, coerced) }
		}
		// The entity cache applies per fetch; the response cache never
		// stores a deferred answer.
		in.Entities = s.entityCacheFor(ctx, a.rt, a.entry)
		var stats executor.Stats
		in.Stats = &stats
		w.Header().Set("Content-Type", multipartContentType)
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusOK)
		rc := http.NewResponseController(w)
		ectx, span := s.startSpan(ctx, telemetry.SpanExecute)
		defer span.End()
		hook := s.deferParts(ctx, w.Header(), a.op.Name) // hooks.go
		executor.ExecuteIncremental(ectx, a.entry.plan, in, a.rt.transport, func(payload []byte) bool {
			if _, err := w.Write([]byte("\r\n---\r\nContent-Type: application/json; charset=utf-8\r\n\r\n")); err != nil {
				return false
			}
			if hook != nil {
				var last bool
				if payload, last = hook(payload); last {
					_, _ = w.Write(payload)
					return false
				}
			}
			if _, err := w.Write(payload); err != nil {
				return false
			}
			_ = rc.Flush()
			return ctx.Err() == nil
		})
		_, _ = w.Write([]byte("\r\n-----\r\n"))
	}
}
