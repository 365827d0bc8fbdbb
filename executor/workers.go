package executor

import "sync/atomic"

// branchWorkers run the branches of Parallel nodes past the first (the
// first runs in the calling goroutine). A branch is a subgraph fetch
// followed by parsing and merging its answer, which takes the goroutine's
// stack from its 8 KB start to 32 KB or more: a new goroutine per branch
// grew (copied) its stack three times per request on the benchmark
// harness's query, and its stack was freed when it ended. A worker keeps
// its grown stack between branches.
//
// The hand-over is a send on an unbuffered channel, which succeeds only
// when a worker is waiting: a branch never waits for a worker, and with
// none idle it gets a new one. A worker that finishes a branch waits for
// the next unless maxIdleWorkers are waiting already, and then ends; the
// waiting ones stay for the life of the process (a goroutine and its
// stack each, which the collector shrinks while they wait).
type workerPool struct {
	work chan func()
	idle atomic.Int32
	max  int32
}

// maxIdleWorkers bounds the workers kept waiting: enough for the
// branches that run at once on a busy gateway (the executions running at
// once are bounded by server.max_inflight_bytes, a few per core).
const maxIdleWorkers = 32

var branchWorkers = newWorkerPool(maxIdleWorkers)

func newWorkerPool(maxIdle int32) *workerPool {
	return &workerPool{work: make(chan func()), max: maxIdle}
}

// Go runs f on a waiting worker, or on a new one.
func (p *workerPool) Go(f func()) {
	select {
	case p.work <- f:
	default:
		go p.worker(f)
	}
}

// worker runs f, then the functions handed to it while it waits.
func (p *workerPool) worker(f func()) {
	for {
		f()
		f = nil // not kept alive while waiting
		if p.idle.Add(1) > p.max {
			p.idle.Add(-1)
			return
		}
		f = <-p.work
		p.idle.Add(-1)
	}
}
