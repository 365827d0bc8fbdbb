package uploads

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"sync"
	"time"

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
// One client (as the rate limits count it) may hold at most
// clientSpoolShare of it while another client uses the spool (holds some
// of it, or tried to take from it within othersWindow): before, one
// address's uploads could hold all of it, and every other client's
// upload that needed a spool was refused for as long as they lasted. A
// write that would take its client past the share then fails with
// CodeSpoolClientLimit. A client alone may still take all of it. Safe for
// concurrent use.
type SpoolBudget struct {
	max int64
	sem *semaphore.Weighted
	now func() time.Time

	mu sync.Mutex
	// held is what each client holds; an entry lives while it holds.
	held map[string]int64
	// recent is the two clients that tried to take last, and when, a
	// the latest: enough to tell whether a client other than one did
	// within othersWindow.
	recent [2]recentTake
}

type recentTake struct {
	client string
	at     time.Time
}

// othersWindow is how recently another client must have tried to spool
// for the share to bind (server.clientBudget's window, for the same
// reason: uploads are short, and a client over its share took the whole
// spool back between them).
const othersWindow = 10 * time.Second

// clientSpoolShare is the part of the budget one client may hold while
// others use it: three quarters, as server.max_inflight_bytes's share.
func clientSpoolShare(max int64) int64 { return max - max/4 }

// NewSpoolBudget returns a budget of max bytes; nil (no budget, as
// before it existed) when max is 0 or less.
func NewSpoolBudget(max int64) *SpoolBudget {
	if max <= 0 {
		return nil
	}
	return &SpoolBudget{max: max, sem: semaphore.NewWeighted(max), now: time.Now, held: map[string]int64{}}
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
	now := b.now()
	others := b.othersSince(client, now.Add(-othersWindow)) || b.heldByOthers(client)
	b.note(client, now)
	if have := b.held[client]; have > 0 && have+n > clientSpoolShare(b.max) && others {
		return spoolShareSpent(clientSpoolShare(b.max))
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

// note records that client tried to take at now (under mu).
func (b *SpoolBudget) note(client string, now time.Time) {
	if b.recent[0].client != client {
		b.recent[1] = b.recent[0]
	}
	b.recent[0] = recentTake{client: client, at: now}
}

// othersSince reports whether a client other than client tried to take
// since since (under mu).
func (b *SpoolBudget) othersSince(client string, since time.Time) bool {
	for _, r := range b.recent {
		if r.client != client && !r.at.IsZero() && !r.at.Before(since) {
			return true
		}
	}
	return false
}

// heldByOthers reports whether a client other than client holds some of
// the budget (under mu).
func (b *SpoolBudget) heldByOthers(client string) bool {
	return len(b.held) > 1 || len(b.held) == 1 && b.held[client] == 0
}

func spoolFull(max int64) *reqerr.Error {
	return &reqerr.Error{Code: CodeSpoolFull, Status: http.StatusServiceUnavailable,
		Message: fmt.Sprintf("the gateway's spool of uploaded files that wait for a later fetch (%d bytes for all requests) is full; retry later", max)}
}

func spoolShareSpent(share int64) *reqerr.Error {
	return &reqerr.Error{Code: CodeSpoolClientLimit, Status: http.StatusTooManyRequests,
		Message: fmt.Sprintf("this client's uploads hold its share of the gateway's spool of uploaded files (%d bytes while other clients upload); retry when one is answered", share)}
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
