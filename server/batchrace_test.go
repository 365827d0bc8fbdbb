package server_test

import (
	"context"
	"testing"
	"time"

	"github.com/fedgate/gateway/internal/gatewaytest"
	"github.com/fedgate/gateway/server"
)

// TestBatchAnswersAbandonedSharedExecution: an operation of a batch whose
// caller leaves while its execution runs in a shared flight (inbound
// dedupe runs it in a goroutine of its own, with the request context's
// values) leaves that execution running; the batch goes on to its next
// operation and counts the answers it holds (batchAnswers) while the
// abandoned execution read that count when it reserved its budget. Under
// -race this is a data race unless the count is read and written
// atomically.
func TestBatchAnswersAbandonedSharedExecution(t *testing.T) {
	slow, held, release := holdingProducts()
	defer release()
	opts := server.DefaultOptions()
	opts.AllowBatch = true
	opts.Cache.Dedupe, opts.Cache.InboundDedupe = false, true
	g := gatewaytest.Start(t, gatewaytest.WithServerOptions(opts), gatewaytest.WithHandler("products", slow))
	batch := []byte(`[{"query":"{ topProducts(first: 1) { name } }"},{"query":"{ topProducts(first: 2) { name } }"}]`)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := g.Post(ctx, batch)
		done <- err
	}()
	for deadline := time.Now().Add(20 * time.Second); held.Load() < 1 && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	if held.Load() < 1 {
		t.Fatal("the batch did not reach the subgraph")
	}
	cancel()
	if err := <-done; err == nil {
		t.Fatal("the cancelled batch was answered")
	}
	// The batch's second operation runs once the server sees the caller
	// gone; the first's execution is still held at the subgraph.
	for deadline := time.Now().Add(2 * time.Second); held.Load() < 2 && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	release()
}
