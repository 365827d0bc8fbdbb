package fedgate

import "github.com/fedgate/gateway/pkg/hooks"

// Option configures Main.
type Option func(*mainOptions)

type mainOptions struct {
	hooks []hooks.Hooks
}

// options are the options Main was called with (one Main per process).
var options mainOptions

// WithHooks compiles h into the gateway; hooks of several WithHooks run
// in the order given, at every stage.
func WithHooks(h hooks.Hooks) Option {
	return func(o *mainOptions) { o.hooks = append(o.hooks, h) }
}
