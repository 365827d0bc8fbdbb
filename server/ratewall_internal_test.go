package server

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/fedgate/gateway/internal/reqerr"
	"github.com/fedgate/gateway/limits"
)

// TestRateWallFullSweepsSeldom: a wall holding maxWalled clients, none
// expired, remembers no new one, and looks for expired ones at most every
// sweepEvery: before, every further refusal scanned all of them under the
// lock each request's check takes. Clients already walled are still
// refused.
func TestRateWallFullSweepsSeldom(t *testing.T) {
	var w rateWall
	refusal := &reqerr.Error{Code: limits.CodeRateLimited, Status: http.StatusTooManyRequests}
	refuse := func(id string) {
		w.refused(&limits.Admission{Client: limits.Client{ID: id}, Limited: true,
			Verdict: limits.Verdict{RetryAfter: time.Hour}}, refusal)
	}
	for i := range maxWalled {
		refuse("address:" + strconv.Itoa(i))
	}
	start := time.Now()
	for i := range 5000 {
		refuse("address:new" + strconv.Itoa(i))
	}
	// One sweep per sweepEvery the refusals took, however slow the
	// machine (well under one normally).
	most := 1 + int(time.Since(start)/sweepEvery)
	if len(w.blocked) != maxWalled || w.sweeps > most {
		t.Errorf("%d walled after %d sweeps, want %d after at most %d", len(w.blocked), w.sweeps, maxWalled, most)
	}
	if w.check(http.Header{}, "address:7") == nil {
		t.Error("a walled client was let through")
	}
	if w.check(http.Header{}, "address:new1") != nil {
		t.Error("a client the full wall did not remember was refused by it")
	}
}
