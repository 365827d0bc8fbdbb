package respheaders

import (
	"context"

	"github.com/fedgate/gateway/executor"
)

// Transport records the answer headers of every fetch in the collector of
// the fetch's context (WithCollector) and passes the fetch on to next.
type Transport struct {
	Next executor.Transport
}

// Fetch implements executor.Transport.
func (t Transport) Fetch(ctx context.Context, subgraph string, req *executor.Request) (*executor.Response, error) {
	resp, err := t.Next.Fetch(ctx, subgraph, req)
	if err == nil && resp != nil {
		if c := CollectorFrom(ctx); c != nil {
			c.Add(subgraph, resp.Headers())
		}
	}
	return resp, err
}

// Unwrap returns the wrapped transport.
func (t Transport) Unwrap() executor.Transport { return t.Next }
