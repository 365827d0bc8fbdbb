package server

import (
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/fedgate/gateway/internal/reqerr"
	"github.com/fedgate/gateway/limits"
)

// rateWall remembers the clients the rate limit refused and until when,
// so that their next requests are refused from their headers alone,
// before the body is read or anything parsed: a client flooding the
// gateway costs it a map lookup per request until its window refills.
// The limit itself stays the limiter's (limits.Policy); the wall only
// repeats a refusal the limiter made, for no longer than it said.
type rateWall struct {
	mu      sync.Mutex
	blocked map[string]time.Time
	// sweptAt is when a full wall last looked for expired clients.
	sweptAt time.Time
	// sweeps counts those looks.
	sweeps int
}

// sweepEvery is how often a full wall looks for expired clients at most:
// meanwhile a new refusal is not remembered (the limiter refuses that
// client's next requests itself). Before, while none had expired, every
// refusal scanned all of them under the lock every request's check takes.
const sweepEvery = 100 * time.Millisecond

// maxWalled bounds the clients remembered; past it expired ones are
// dropped, and a new one is not remembered if none has expired.
const maxWalled = 1 << 16

// refused records a refusal of the limiter (RATE_LIMITED only: a cost
// refusal depends on the operation).
func (w *rateWall) refused(adm *limits.Admission, err error) {
	if adm == nil || !adm.Limited || adm.Verdict.Allowed || adm.Verdict.RetryAfter <= 0 {
		return
	}
	if e := reqerr.From(err); e.Code != limits.CodeRateLimited {
		return
	}
	until := time.Now().Add(adm.Verdict.RetryAfter)
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.blocked == nil {
		w.blocked = map[string]time.Time{}
	}
	if len(w.blocked) >= maxWalled {
		now := time.Now()
		if now.Sub(w.sweptAt) < sweepEvery {
			return
		}
		w.sweptAt = now
		w.sweeps++
		for id, t := range w.blocked {
			if now.After(t) {
				delete(w.blocked, id)
			}
		}
		if len(w.blocked) >= maxWalled {
			return
		}
	}
	w.blocked[adm.Client.ID] = until
}

// check refuses a client still inside a refusal the limiter made.
func (w *rateWall) check(h http.Header, id string) error {
	w.mu.Lock()
	until, ok := w.blocked[id]
	if ok && !time.Now().Before(until) {
		delete(w.blocked, id)
		ok = false
	}
	w.mu.Unlock()
	if !ok {
		return nil
	}
	secs := max(int64((time.Until(until)+time.Second-1)/time.Second), 1)
	h.Set("Retry-After", strconv.FormatInt(secs, 10))
	return &reqerr.Error{Code: limits.CodeRateLimited, Status: http.StatusTooManyRequests,
		Message: "too many requests from this client; retry in " + strconv.FormatInt(secs, 10) + "s"}
}
