package coprocessor

import (
	"errors"
	"fmt"
	"net/url"
	"time"
)

// Config configures the coprocessor; an empty URL turns it off. Its shape
// follows Apollo Router's coprocessor configuration (docs/extending.md).
type Config struct {
	// URL is where every stage is POSTed (http or https).
	URL string `yaml:"url"`
	// Timeout bounds one exchange unless a stage sets its own.
	Timeout time.Duration `yaml:"timeout"`
	// FailOpen continues a request as if the coprocessor had answered
	// "continue" when an exchange fails (timeout, refused connection,
	// malformed answer); the default fails it closed (500, or at a
	// Subgraph stage the fetch).
	FailOpen bool `yaml:"fail_open"`
	// MaxIdleConns caps the idle pooled connections to the coprocessor.
	MaxIdleConns int `yaml:"max_idle_conns"`
	// Router, Supergraph and Execution select the stages and what they send.
	Router     Stages `yaml:"router"`
	Supergraph Stages `yaml:"supergraph"`
	Execution  Stages `yaml:"execution"`
	// Subgraph selects the Subgraph stages of every subgraph (all).
	Subgraph SubgraphStages `yaml:"subgraph"`
}

// SubgraphStages are the Subgraph stages.
type SubgraphStages struct {
	// All applies to every subgraph without an entry in Subgraphs.
	All Stages `yaml:"all"`
	// Subgraphs replaces All for the subgraphs it names: a stage left
	// out there is not sent for that subgraph.
	Subgraphs map[string]Stages `yaml:"subgraphs"`
}

// For returns the stages of subgraph name.
func (s *SubgraphStages) For(name string) *Stages {
	if st, ok := s.Subgraphs[name]; ok {
		return &st
	}
	return &s.All
}

// Stages are the request and response stage of one service; a nil stage
// is not sent.
type Stages struct {
	Request  *Selection `yaml:"request"`
	Response *Selection `yaml:"response"`
}

// Selection is what one stage sends (Apollo's per-stage booleans).
type Selection struct {
	// Headers sends the stage's headers, which the answer may replace.
	Headers bool `yaml:"headers"`
	// Context sends the request context, which the answer may replace.
	Context bool `yaml:"context"`
	// Method and Path send the client request's.
	Method bool `yaml:"method"`
	Path   bool `yaml:"path"`
	// ServiceName sends the subgraph's name (Subgraph stages).
	ServiceName bool `yaml:"service_name"`
	// StatusCode sends the status (response stages).
	StatusCode bool `yaml:"status_code"`
	// Body sends the stage's body, which the answer may replace
	// (hooks.Call.Body says which body each stage has).
	Body bool `yaml:"body"`
	// SDL sends the supergraph SDL.
	SDL bool `yaml:"sdl"`
	// URI sends the subgraph's URL (SubgraphRequest).
	URI bool `yaml:"uri"`
	// SubgraphRequestID sends the fetch's id, the same at its
	// SubgraphRequest and SubgraphResponse (Subgraph stages).
	SubgraphRequestID bool `yaml:"subgraph_request_id"`
	// Timeout bounds this stage's exchange (0: Config.Timeout).
	Timeout time.Duration `yaml:"timeout"`
}

// DefaultTimeout bounds an exchange when no timeout is configured.
const DefaultTimeout = time.Second

// Validate reports a configuration New would refuse.
func (c Config) Validate() error {
	if c.URL == "" {
		return nil
	}
	u, err := url.Parse(c.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("url: want an http(s) URL, got %q", c.URL)
	}
	if c.Timeout < 0 {
		return errors.New("timeout: must not be negative")
	}
	sels := map[string]*Selection{
		"router.request": c.Router.Request, "router.response": c.Router.Response,
		"supergraph.request": c.Supergraph.Request, "supergraph.response": c.Supergraph.Response,
		"execution.request": c.Execution.Request, "execution.response": c.Execution.Response,
		"subgraph.all.request": c.Subgraph.All.Request, "subgraph.all.response": c.Subgraph.All.Response,
	}
	for name, st := range c.Subgraph.Subgraphs {
		if name == "" {
			return errors.New("subgraph.subgraphs: a subgraph name is empty")
		}
		sels["subgraph.subgraphs."+name+".request"] = st.Request
		sels["subgraph.subgraphs."+name+".response"] = st.Response
	}
	for name, s := range sels {
		if s != nil && s.Timeout < 0 {
			return fmt.Errorf("%s.timeout: must not be negative", name)
		}
	}
	return nil
}
