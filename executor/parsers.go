package executor

import (
	"sync"

	"github.com/fedgate/gateway/internal/jsonvalue"
)

// A parser keeps the memory of the largest document it parsed (the input
// copy and its values) for the next one. With one pool for every answer,
// each parser soon holds enough for the largest answer of any plan: the
// shared harness's query has one answer of ~80 KB and five under 1 KB, so
// every parser of every run held ~80 KB worth. Parsers are pooled by the
// size of what they parse instead, and a document larger than the last
// class gets a parser of its own, which the collector takes afterwards.
var parserClasses = [...]int{4 << 10, 32 << 10, 256 << 10}

var parserPools [len(parserClasses)]sync.Pool

// parserClass is the pool for a document of n bytes, or -1 for none.
func parserClass(n int) int {
	for i, limit := range parserClasses {
		if n <= limit {
			return i
		}
	}
	return -1
}

// pooledParser is a parser owned by an execution and the pool it goes
// back to (-1: none).
type pooledParser struct {
	p     *jsonvalue.Parser
	class int
}

// parse parses b with a parser of b's size class, owned by this execution
// until it ends (the values point into the parser's memory), against the
// plan's keys.
func (e *execution) parse(b []byte) (*jsonvalue.Value, error) {
	class := parserClass(len(b))
	var p *jsonvalue.Parser
	if class >= 0 {
		p, _ = parserPools[class].Get().(*jsonvalue.Parser)
	}
	if p == nil {
		p = new(jsonvalue.Parser)
	}
	e.mu.Lock()
	if e.parsers == nil {
		e.parsers = e.parserSlots[:0]
	}
	e.parsers = append(e.parsers, pooledParser{p: p, class: class})
	e.mu.Unlock()
	return p.ParseKeys(b, e.keys)
}

// copyArenas keeps the arenas of copyOf between executions. An arena
// keeps the memory of the most values it held; one that held more than
// maxPooledCopies is left to the collector, so the pool holds little.
var copyArenas sync.Pool

const maxPooledCopies = 8192

// release returns the execution's parsers and copy arena to their pools.
func (e *execution) release() {
	for _, pp := range e.parsers {
		if pp.class >= 0 {
			parserPools[pp.class].Put(pp.p)
		}
	}
	e.parsers = nil
	clear(e.parserSlots[:]) // no reference to parsers back in their pools
	e.pos.release()
	if e.copies != nil && e.copies.Len() <= maxPooledCopies {
		e.copies.Reset()
		copyArenas.Put(e.copies)
	}
	e.copies = nil
}
