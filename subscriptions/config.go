package subscriptions

import (
	"errors"
	"fmt"
	"time"

	"github.com/fedgate/gateway/subgraphs/wsclient"
)

// Config is the "subscriptions" section of the gateway configuration
// (docs/config.md). Zero values take the defaults of Options.
type Config struct {
	// Enabled serves subscriptions (and operations over WebSocket and
	// SSE) on the public listener.
	Enabled        bool    `yaml:"enabled"`
	MaxPerClient   int     `yaml:"max_per_client"`
	SubscribeRate  float64 `yaml:"subscribe_rate"`
	SubscribeBurst int     `yaml:"subscribe_burst"`
	// ConnectRate and ConnectBurst pace the WebSockets one client sets
	// up (connection_init acked).
	ConnectRate    float64 `yaml:"connect_rate"`
	ConnectBurst   int     `yaml:"connect_burst"`
	MaxConnections int     `yaml:"max_connections"`
	// MaxConnectionsPerClient bounds the stream connections one client
	// has open at once.
	MaxConnectionsPerClient int `yaml:"max_connections_per_client"`
	Buffer                  int `yaml:"buffer"`
	// BufferBytes bounds the bytes of the messages waiting for one
	// connection, beside Buffer's count.
	BufferBytes int64 `yaml:"buffer_bytes"`
	// BurstBytes is what the connections together may hold beyond their
	// BufferBytes.
	BurstBytes   int64         `yaml:"burst_bytes"`
	WriteTimeout time.Duration `yaml:"write_timeout"`
	InitTimeout  time.Duration `yaml:"init_timeout"`
	// MessageTimeout bounds the time a WebSocket message in progress
	// takes to arrive.
	MessageTimeout time.Duration `yaml:"message_timeout"`
	KeepAlive      time.Duration `yaml:"keep_alive"`
	MaxPending     int           `yaml:"max_pending"`
	// MaxVariableBytesPerClient bounds the bytes of variables one
	// client's open subscriptions hold.
	MaxVariableBytesPerClient int64 `yaml:"max_variable_bytes_per_client"`
	// MaxReservations bounds the graphql-sse single connection
	// reservations of one client.
	MaxReservations int `yaml:"max_reservations"`
	// MaxInflightPerConnection bounds the operations one WebSocket has
	// in progress (being prepared, or executed) at once.
	MaxInflightPerConnection int `yaml:"max_inflight_per_connection"`
	// OriginPatterns are the browser origins (host patterns) allowed to
	// open WebSockets besides the gateway's own host.
	OriginPatterns     []string `yaml:"origin_patterns"`
	ForwardInitPayload bool     `yaml:"forward_init_payload"`
	// Upstream configures the connections to subgraphs.
	Upstream Upstream `yaml:"upstream"`
}

// Upstream configures the graphql-transport-ws connections to subgraphs.
type Upstream struct {
	MaxStreamsPerConnection int           `yaml:"max_streams_per_connection"`
	RetryFor                time.Duration `yaml:"retry_for"`
	Backoff                 time.Duration `yaml:"backoff"`
	MaxBackoff              time.Duration `yaml:"max_backoff"`
	PingInterval            time.Duration `yaml:"ping_interval"`
	// SSE names the subgraphs subscribed to over GraphQL over SSE
	// instead of WebSocket.
	SSE []string `yaml:"sse"`
}

// DefaultConfig turns subscriptions on with the default limits.
func DefaultConfig() Config { return Config{Enabled: true} }

// Validate reports negative values.
func (c Config) Validate() error {
	var errs []error
	for _, f := range []struct {
		key string
		bad bool
	}{
		{"max_per_client", c.MaxPerClient < 0}, {"subscribe_rate", c.SubscribeRate < 0}, {"subscribe_burst", c.SubscribeBurst < 0},
		{"connect_rate", c.ConnectRate < 0}, {"connect_burst", c.ConnectBurst < 0},
		{"max_connections", c.MaxConnections < 0}, {"max_connections_per_client", c.MaxConnectionsPerClient < 0}, {"buffer", c.Buffer < 0}, {"buffer_bytes", c.BufferBytes < 0}, {"burst_bytes", c.BurstBytes < 0}, {"write_timeout", c.WriteTimeout < 0},
		{"init_timeout", c.InitTimeout < 0}, {"message_timeout", c.MessageTimeout < 0}, {"keep_alive", c.KeepAlive < 0}, {"max_pending", c.MaxPending < 0}, {"max_reservations", c.MaxReservations < 0},
		{"max_inflight_per_connection", c.MaxInflightPerConnection < 0}, {"max_variable_bytes_per_client", c.MaxVariableBytesPerClient < 0},
		{"upstream.max_streams_per_connection", c.Upstream.MaxStreamsPerConnection < 0},
		{"upstream.backoff", c.Upstream.Backoff < 0}, {"upstream.max_backoff", c.Upstream.MaxBackoff < 0},
		{"upstream.ping_interval", c.Upstream.PingInterval < 0},
	} {
		if f.bad {
			errs = append(errs, fmt.Errorf("subscriptions.%s: must not be negative", f.key))
		}
	}
	return errors.Join(errs...)
}

// Options returns the engine options of c.
func (c Config) Options() Options {
	return Options{MaxPerClient: c.MaxPerClient, SubscribeRate: c.SubscribeRate, SubscribeBurst: c.SubscribeBurst,
		ConnectRate: c.ConnectRate, ConnectBurst: c.ConnectBurst,
		MaxConnections: c.MaxConnections, MaxConnectionsPerClient: c.MaxConnectionsPerClient, Buffer: c.Buffer, BufferBytes: c.BufferBytes, BurstBytes: c.BurstBytes, WriteTimeout: c.WriteTimeout, InitTimeout: c.InitTimeout,
		MessageTimeout: c.MessageTimeout,
		KeepAlive:      c.KeepAlive, MaxPending: c.MaxPending, MaxReservations: c.MaxReservations,
		MaxInflightPerConnection: c.MaxInflightPerConnection, MaxVariableBytesPerClient: c.MaxVariableBytesPerClient, OriginPatterns: c.OriginPatterns, ForwardInitPayload: c.ForwardInitPayload}
}

// UpstreamOptions returns the subgraph client options of c (URL unset).
func (c Config) UpstreamOptions() wsclient.Options {
	return wsclient.Options{MaxStreamsPerConn: c.Upstream.MaxStreamsPerConnection, RetryFor: c.Upstream.RetryFor,
		Backoff: c.Upstream.Backoff, MaxBackoff: c.Upstream.MaxBackoff, PingInterval: c.Upstream.PingInterval}
}
