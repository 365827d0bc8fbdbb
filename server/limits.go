package server

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/fedgate/gateway/limits"
	"github.com/fedgate/gateway/planner"
)

// admit is the cost and rate limit stage: it runs after validation and
// normalization and before execution. It writes the rate limit headers to
// h; when the operation is refused it returns the error body and status.
func (s *Server) admit(ctx context.Context, hr *http.Request, h http.Header, rt *runtime, op *planner.Operation, vars map[string]any) (*limits.Admission, []byte, int) {
	if s.opts.Policy == nil {
		return nil, nil, 0
	}
	adm, err := s.opts.Policy.Admit(ctx, hr, rt.cost, op, vars)
	adm.SetHeaders(h)
	if err != nil {
		return adm, limitErrorBody(err), statusOf(err)
	}
	return adm, nil, 0
}

// finishCost reports the executed operation to the policy and returns the
// "cost" extension, or nil.
func (s *Server) finishCost(ctx context.Context, adm *limits.Admission, rt *runtime, op *planner.Operation, vars map[string]any, out []byte) []byte {
	if s.opts.Policy == nil || adm == nil {
		return nil
	}
	return s.opts.Policy.Finish(ctx, adm, rt.cost, op, vars, out)
}

// limitErrorBody is errorBody with the error's extra extensions (the
// estimated and maximum cost of COST_ESTIMATED_TOO_EXPENSIVE).
func limitErrorBody(err error) []byte {
	var le *limits.Error
	if !errors.As(err, &le) || len(le.Extensions) == 0 {
		return errorBody(err)
	}
	ext := map[string]any{"code": le.Code}
	for k, v := range le.Extensions {
		ext[k] = v
	}
	b, _ := json.Marshal(struct {
		Errors []wireError `json:"errors"`
	}{[]wireError{{Message: le.Message, Extensions: ext}}})
	return b
}

// extension is one member of a response's top-level extensions.
type extension struct {
	key   string
	value []byte // JSON
}

// appendExtensions adds an "extensions" object to a response body that
// has none.
func appendExtensions(out []byte, ext []extension) []byte {
	if len(ext) == 0 || len(out) == 0 || out[len(out)-1] != '}' {
		return out
	}
	out = append(out[:len(out)-1], `,"extensions":{`...)
	for i, e := range ext {
		if i > 0 {
			out = append(out, ',')
		}
		k, _ := json.Marshal(e.key)
		out = append(out, k...)
		out = append(out, ':')
		out = append(out, e.value...)
	}
	return append(out, "}}"...)
}
