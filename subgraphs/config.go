package subgraphs

// Config is the "subgraphs" section of the gateway configuration.
type Config struct{}

// DefaultConfig returns the defaults of the section.
func DefaultConfig() Config { return Config{} }

// Validate checks the section; errors name the key.
func (c Config) Validate() error { return nil }
