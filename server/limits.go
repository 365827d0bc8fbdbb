package server

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"slices"

	"github.com/fedgate/gateway/executor"
	"github.com/fedgate/gateway/limits"
	"github.com/fedgate/gateway/planner"
)

// admit is the cost and rate limit stage: it runs after validation and
// planning and before execution. It writes the rate limit headers to h;
// the error, when not nil, is the *reqerr.Error to answer instead.
func (s *Server) admit(ctx context.Context, hr *http.Request, h http.Header, rt *runtime, entry *planEntry, vars map[string]any) (*limits.Admission, error) {
	if s.opts.Policy == nil {
		return nil, nil
	}
	adm, err := s.opts.Policy.Admit(ctx, hr, rt.cost, entry.plan.Operation, vars, &entry.estimate)
	adm.SetHeaders(h)
	if err != nil {
		s.wall.refused(adm, err)
	}
	return adm, err
}

// chargeInvalid is the rate limit's share of a request refused before
// admission (invalid document, unknown operation, bad variables): it
// counts one request for the client, and answers the rate limit's refusal
// instead of err when the client has none left.
func (s *Server) chargeInvalid(ctx context.Context, hr *http.Request, h http.Header, err error) error {
	if s.opts.Policy == nil {
		return err
	}
	adm, lerr := s.opts.Policy.AdmitInvalid(ctx, hr)
	adm.SetHeaders(h)
	if lerr != nil {
		s.wall.refused(adm, lerr)
		return lerr
	}
	return err
}

// admitClient refuses, from its headers alone, a client the rate limit
// refused and whose window has not refilled yet (rateWall).
func (s *Server) admitClient(h http.Header, client string) error {
	if s.opts.Policy == nil {
		return nil
	}
	return s.wall.check(h, client)
}

// finishCost reports the executed operation to the policy and returns the
// "cost" extension, or nil.
func (s *Server) finishCost(ctx context.Context, adm *limits.Admission, rt *runtime, op *planner.Operation, vars map[string]any, out []byte) []byte {
	if s.opts.Policy == nil || adm == nil {
		return nil
	}
	return s.opts.Policy.Finish(ctx, adm, rt.cost, op, vars, out)
}

// extension is one member of a response's top-level extensions.
type extension struct {
	key   string
	value []byte // JSON
}

// appendExtensions adds members to a response body's "extensions"
// object: to the one it starts with (executor.ExtensionsPrefix: the
// executor's valueCompletion), or a new one at its end.
func appendExtensions(out []byte, ext []extension) []byte {
	if len(ext) == 0 || len(out) == 0 || out[len(out)-1] != '}' {
		return out
	}
	var members []byte
	for i, e := range ext {
		if i > 0 {
			members = append(members, ',')
		}
		k, _ := json.Marshal(e.key)
		members = append(members, k...)
		members = append(members, ':')
		members = append(members, e.value...)
	}
	if bytes.HasPrefix(out, []byte(executor.ExtensionsPrefix)) {
		// An empty object (a hook's answer may start with one) takes the
		// members without a comma after them.
		if at := len(executor.ExtensionsPrefix); at < len(out) && out[at] != '}' {
			members = append(members, ',')
		}
		return slices.Insert(out, len(executor.ExtensionsPrefix), members...)
	}
	out = append(out[:len(out)-1], `,"extensions":{`...)
	out = append(out, members...)
	return append(out, "}}"...)
}
