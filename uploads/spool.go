package uploads

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"

	"github.com/fedgate/gateway/internal/reqerr"
	"golang.org/x/sync/semaphore"
)

// SpoolBudget bounds the bytes spooled by all uploads of the process
// together (uploads.max_spool_bytes): MaxTotalBytes bounds one request's
// spool, this bounds the sum over the requests served at once. Bytes are
// taken as they are written and given back when the spool file is closed;
// a write past the budget fails at once (never waits), and the request is
// answered with CodeSpoolFull. Safe for concurrent use.
type SpoolBudget struct {
	max int64
	sem *semaphore.Weighted
}

// NewSpoolBudget returns a budget of max bytes; nil (no budget, as
// before it existed) when max is 0 or less.
func NewSpoolBudget(max int64) *SpoolBudget {
	if max <= 0 {
		return nil
	}
	return &SpoolBudget{max: max, sem: semaphore.NewWeighted(max)}
}

// take reserves n bytes, false when fewer are left. A nil budget always
// has room.
func (b *SpoolBudget) take(n int64) bool {
	if b == nil || n == 0 {
		return true
	}
	// Never Acquire: a full budget refuses, it does not make a request
	// wait for others to finish.
	return b.sem.TryAcquire(n)
}

// give returns n bytes taken before.
func (b *SpoolBudget) give(n int64) {
	if b != nil && n > 0 {
		b.sem.Release(n)
	}
}

func spoolFull(max int64) *reqerr.Error {
	return &reqerr.Error{Code: CodeSpoolFull, Status: http.StatusServiceUnavailable,
		Message: fmt.Sprintf("the gateway's spool of uploaded files that wait for a later fetch (%d bytes for all requests) is full; retry later", max)}
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
	if !s.u.spool.take(want) {
		return 0, s.u.fail(spoolFull(s.u.spool.max))
	}
	n, err := s.f.Write(p)
	s.size += int64(n)
	s.held += int64(n)
	s.u.spool.give(want - int64(n))
	if err != nil {
		return n, s.u.fail(errors.Join(errSpool, err))
	}
	return n, nil
}

func (s *spoolFile) reader() io.Reader { return io.NewSectionReader(s.f, 0, s.size) }

// Close removes the file and gives its bytes back to the budget; a
// second Close gives nothing back twice.
func (s *spoolFile) Close() error {
	s.u.spool.give(s.held)
	s.held = 0
	_ = os.Remove(s.f.Name())
	return s.f.Close()
}
