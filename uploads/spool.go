package uploads

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"sync"

	"github.com/fedgate/gateway/internal/reqerr"
	"golang.org/x/sync/semaphore"
)

// SpoolBudget bounds the bytes spooled by all uploads of the process
// together (uploads.max_spool_bytes): MaxTotalBytes bounds one request's
// spool, this bounds the sum over the requests served at once. Bytes are
// taken as they are written and given back when the spool file is closed;
// a write past the budget fails at once (never waits), and the request is
// answered with CodeSpoolFull.
//
// One client (as the rate limits count it) holds at most its share of it
// (clientSpoolShare: three quarters, or one whole request's
// max_total_bytes when that is more), whether or not another client
// uploads at that moment; a write that would take its client past the
// share fails with CodeSpoolClientLimit. Before, the share bound only
// while another client was using the spool: a client alone took all of
// it, held it for as long as its bodies stalled, and every other client
// that came meanwhile was refused with CodeSpoolFull. Safe for
// concurrent use.
type SpoolBudget struct {
	max   int64
	share int64
	sem   *semaphore.Weighted

	mu sync.Mutex
	// held is what each client holds; an entry lives while it holds.
	held map[string]int64
}

// clientSpoolShare is the part of a budget of bytes one client may
// hold: three quarters (as server.max_inflight_bytes's share), so that
// the others always find a quarter free of it, but never less than one
// request's spool (perRequest, uploads.max_total_bytes) so that a client
// alone is refused nothing one request may spool; at most budget.
func clientSpoolShare(budget, perRequest int64) int64 {
	return min(budget, max(budget-budget/4, perRequest))
}

// NewSpoolBudget returns a budget of max bytes whose clients each hold
// at most clientSpoolShare(max, perRequest); nil (no budget, as before it
// existed) when max is 0 or less.
func NewSpoolBudget(max, perRequest int64) *SpoolBudget {
	if max <= 0 {
		return nil
	}
	return &SpoolBudget{max: max, share: clientSpoolShare(max, perRequest), sem: semaphore.NewWeighted(max), held: map[string]int64{}}
}

// take reserves n bytes for client, an error (CodeSpoolFull,
// CodeSpoolClientLimit) when they are not left to it. A nil budget
// always has room.
func (b *SpoolBudget) take(client string, n int64) *reqerr.Error {
	if b == nil || n == 0 {
		return nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	// A share of the whole budget binds no earlier than the budget, whose
	// refusal (full) it then is.
	if have := b.held[client]; have > 0 && have+n > b.share && b.share < b.max {
		return spoolShareSpent(b.share)
	}
	// Never Acquire: a full budget refuses, it does not make a request
	// wait for others to finish.
	if !b.sem.TryAcquire(n) {
		return spoolFull(b.max)
	}
	b.held[client] += n
	return nil
}

// give returns n bytes client took before.
func (b *SpoolBudget) give(client string, n int64) {
	if b == nil || n <= 0 {
		return
	}
	b.mu.Lock()
	if left := b.held[client] - n; left > 0 {
		b.held[client] = left
	} else {
		delete(b.held, client)
	}
	b.mu.Unlock()
	b.sem.Release(n)
}

func spoolFull(max int64) *reqerr.Error {
	return &reqerr.Error{Code: CodeSpoolFull, Status: http.StatusServiceUnavailable,
		Message: fmt.Sprintf("the gateway's spool of uploaded files that wait for a later fetch (%d bytes for all requests) is full; retry later", max)}
}

func spoolShareSpent(share int64) *reqerr.Error {
	return &reqerr.Error{Code: CodeSpoolClientLimit, Status: http.StatusTooManyRequests,
		Message: fmt.Sprintf("this client's uploads hold its share of the gateway's spool of uploaded files (%d bytes); retry when one is answered", share)}
}

// spoolFile is an unlinked temporary file: written once, then read by
// any number of readers at once. Its bytes are taken from the upload's
// budget as they are written and given back by Close.
type spoolFile struct {
	u    *Upload
	f    *os.File
	size int64
	// held is what was taken from u.spool (given back by Close).
	held int64
}

func (u *Upload) newSpool() (*spoolFile, error) {
	f, err := os.CreateTemp(u.cfg.SpoolDir, "fedgate-upload-*")
	if err != nil {
		return nil, errors.Join(errSpool, err)
	}
	// Unlinked at once (where the system allows): nothing is left behind
	// if the process dies.
	_ = os.Remove(f.Name())
	return &spoolFile{u: u, f: f}, nil
}

var errSpool = errors.New("uploads: spool file")

// Write takes len(p) bytes from the budget first; past it, it writes
// nothing and fails the upload with CodeSpoolFull.
func (s *spoolFile) Write(p []byte) (int, error) {
	want := int64(len(p))
	if err := s.u.spool.take(s.u.client, want); err != nil {
		return 0, s.u.fail(err)
	}
	n, err := s.f.Write(p)
	s.size += int64(n)
	s.held += int64(n)
	s.u.spool.give(s.u.client, want-int64(n))
	if err != nil {
		return n, s.u.fail(errors.Join(errSpool, err))
	}
	return n, nil
}

func (s *spoolFile) reader() io.Reader { return io.NewSectionReader(s.f, 0, s.size) }

// Close removes the file and gives its bytes back to the budget; a
// second Close gives nothing back twice.
func (s *spoolFile) Close() error {
	s.u.spool.give(s.u.client, s.held)
	s.held = 0
	_ = os.Remove(s.f.Name())
	return s.f.Close()
}
