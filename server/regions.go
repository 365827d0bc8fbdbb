package server

// Regions of a GraphQL request in a Go execution trace (runtime/trace),
// such as the one --debug-listen serves at /debug/pprof/trace. `go tool
// trace` shows each type's durations ("User-defined regions"), which
// splits a request's latency into waiting for the execution memory
// budget, executing the plan and writing the answer. With no trace being
// taken a region costs one atomic load.
const (
	// regionRequest is the GraphQL handler, from after the request head
	// is read to the answer's last byte handed to the connection.
	regionRequest = "fedgate.request"
	// regionWait is the wait in the execution budget's FIFO queue
	// (server.max_inflight_bytes); absent when the budget admits at once.
	regionWait = "fedgate.wait"
	// regionExecute is the plan's execution: subgraph fetches, merging and
	// rendering the response.
	regionExecute = "fedgate.execute"
	// regionWrite is writing the answer to the client.
	regionWrite = "fedgate.write"
)
