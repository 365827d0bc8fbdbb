package telemetry

import (
	"context"
	"fmt"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// SubscriptionFigures are the subscription gauges and counters, read at
// each metrics collection.
type SubscriptionFigures struct {
	// Active client subscriptions and stream connections (WebSocket, SSE,
	// multipart) open.
	Active, Connections int64
	// UpstreamConnections and UpstreamStreams are the WebSocket
	// connections and subscriptions open to subgraphs.
	UpstreamConnections, UpstreamStreams int64
	// SlowClients counts clients disconnected for not reading; Refused
	// refusals by a per-client limit, and WebSockets closed (1013)
	// because their message did not fit in the read budget.
	SlowClients, Refused int64
	// Events counts events per subgraph owning the root field: in
	// (received and completed, once per group of identical
	// subscriptions) and out (sent to clients).
	Events map[string]EventCounts
}

// EventCounts are events received from a subgraph and sent to clients.
type EventCounts struct{ In, Out int64 }

// ObserveSubscriptions exports the figures read returns: gauges
// fedgate.subscriptions.active, .connections, .upstream.connections,
// .upstream.streams, and counters fedgate.subscriptions.events (by
// subgraph and direction), .slow_clients and .refused.
func (t *Telemetry) ObserveSubscriptions(read func() SubscriptionFigures) error {
	if t == nil || t.mp == nil {
		return nil
	}
	meter := t.mp.Meter("github.com/fedgate/gateway")
	gauge := func(name, desc string) metric.Int64ObservableGauge {
		g, err := meter.Int64ObservableGauge(name, metric.WithDescription(desc))
		if err != nil {
			panic(err) // only for an invalid name
		}
		return g
	}
	counter := func(name, desc string) metric.Int64ObservableCounter {
		c, err := meter.Int64ObservableCounter(name, metric.WithDescription(desc))
		if err != nil {
			panic(err)
		}
		return c
	}
	active := gauge("fedgate.subscriptions.active", "Client subscriptions open.")
	conns := gauge("fedgate.subscriptions.connections", "Client stream connections open (WebSocket, SSE, multipart).")
	upConns := gauge("fedgate.subscriptions.upstream.connections", "WebSocket connections open to subgraphs.")
	upStreams := gauge("fedgate.subscriptions.upstream.streams", "Subscriptions open to subgraphs (identical ones shared).")
	events := counter("fedgate.subscriptions.events", "Subscription events by subgraph and direction: in (completed once per group of identical subscriptions), out (sent to clients).")
	slow := counter("fedgate.subscriptions.slow_clients", "Clients disconnected because they did not read their events.")
	refused := counter("fedgate.subscriptions.refused", "Subscribes and stream connections refused by a per-client limit, and WebSockets closed because their message did not fit in the read budget.")
	_, err := meter.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		f := read()
		o.ObserveInt64(active, f.Active)
		o.ObserveInt64(conns, f.Connections)
		o.ObserveInt64(upConns, f.UpstreamConnections)
		o.ObserveInt64(upStreams, f.UpstreamStreams)
		o.ObserveInt64(slow, f.SlowClients)
		o.ObserveInt64(refused, f.Refused)
		for sg, c := range f.Events {
			o.ObserveInt64(events, c.In, metric.WithAttributes(attribute.String("subgraph", sg), attribute.String("direction", "in")))
			o.ObserveInt64(events, c.Out, metric.WithAttributes(attribute.String("subgraph", sg), attribute.String("direction", "out")))
		}
		return nil
	}, active, conns, upConns, upStreams, events, slow, refused)
	if err != nil {
		return fmt.Errorf("telemetry: subscription metrics: %w", err)
	}
	return nil
}
