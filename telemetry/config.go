// Package telemetry sets up OpenTelemetry traces and metrics and the structured request log.
package telemetry

// Config is the "telemetry" section of the gateway configuration.
type Config struct{}

// DefaultConfig returns the defaults of the section.
func DefaultConfig() Config { return Config{} }

// Validate checks the section; errors name the key.
func (c Config) Validate() error { return nil }
