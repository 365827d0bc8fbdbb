package subscriptions_test

import (
	"bufio"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/fedgate/gateway/subscriptions"
)

// single is a graphql-sse single connection client for tests.
type single struct {
	t      *testing.T
	url    string
	header http.Header
	token  string
}

func (s *single) do(method, url, body string, header http.Header) (int, string) {
	s.t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	for k, v := range s.header {
		req.Header[k] = v
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// reserve sends the PUT and keeps the token.
func (s *single) reserve() {
	s.t.Helper()
	status, body := s.do("PUT", s.url, "", nil)
	if status != http.StatusCreated || len(body) < 40 {
		s.t.Fatalf("PUT: %d %s", status, body)
	}
	s.token = body
}

func (s *single) tokenHeader() http.Header {
	return http.Header{subscriptions.TokenHeader: {s.token}}
}

// open opens the event stream; it fails the test unless the status is
// want, and returns the stream when it is 200.
func (s *single) open(want int) *sseStream {
	s.t.Helper()
	req, _ := http.NewRequest("GET", s.url, nil)
	for k, v := range s.header {
		req.Header[k] = v
	}
	req.Header.Set(subscriptions.TokenHeader, s.token)
	req.Header.Set("Accept", "text/event-stream")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	if resp.StatusCode != want {
		b, _ := io.ReadAll(resp.Body)
		s.t.Fatalf("stream: status %d %s, want %d", resp.StatusCode, b, want)
	}
	if want != http.StatusOK {
		resp.Body.Close()
		return nil
	}
	s.t.Cleanup(func() { resp.Body.Close() })
	return &sseStream{t: s.t, r: bufio.NewReader(resp.Body)}
}

// operation POSTs query with operationId id and returns the status.
func (s *single) operation(id, query string) (int, string) {
	body, _ := json.Marshal(map[string]any{"query": query, "extensions": map[string]any{"operationId": id}})
	return s.do("POST", s.url, string(body), http.Header{"Content-Type": {"application/json"}, subscriptions.TokenHeader: {s.token}})
}

// singleMsg is the data of a single connection event.
type singleMsg struct {
	ID      string          `json:"id"`
	Payload json.RawMessage `json:"payload"`
}

func readSingle(t *testing.T, st *sseStream) (string, singleMsg) {
	t.Helper()
	name, data := st.next()
	var m singleMsg
	if err := json.Unmarshal([]byte(data), &m); err != nil {
		t.Fatalf("event %s data %q: %v", name, data, err)
	}
	return name, m
}

func TestSSESingleConnection(t *testing.T) {
	e := newEnv(t, envOptions{})
	s := &single{t: t, url: e.URL}
	s.reserve()
	// An operation may be sent before the stream opens: its results wait.
	if status, body := s.operation("q1", `{ topProducts(first: 1) { name } }`); status != http.StatusAccepted {
		t.Fatalf("query: %d %s", status, body)
	}
	st := s.open(http.StatusOK)
	if name, m := readSingle(t, st); name != "next" || m.ID != "q1" || !strings.Contains(string(m.Payload), `"name"`) {
		t.Fatalf("%s %+v", name, m)
	}
	if name, m := readSingle(t, st); name != "complete" || m.ID != "q1" {
		t.Fatalf("%s %+v", name, m)
	}
	for _, id := range []string{"a", "b"} {
		if status, body := s.operation(id, `subscription { reviewAdded(productUpc: "2") { body product { name inStock } } }`); status != http.StatusAccepted {
			t.Fatalf("subscribe %s: %d %s", id, status, body)
		}
	}
	waitFor(t, "2 active", func() bool { return e.Engine.Stats.Active.Load() == 2 })
	e.subscribed(1)
	e.add("2", "one")
	got := map[string]bool{}
	for i := 0; i < 2; i++ {
		name, m := readSingle(t, st)
		if name != "next" || !strings.Contains(string(m.Payload), `"body":"one"`) || !strings.Contains(string(m.Payload), `"name":"Couch"`) {
			t.Fatalf("%s %+v", name, m)
		}
		got[m.ID] = true
	}
	if !got["a"] || !got["b"] {
		t.Fatalf("events for %v", got)
	}
	// DELETE stops one; the other keeps running on the same stream.
	if status, _ := s.do("DELETE", s.url+"?operationId=a", "", s.tokenHeader()); status != http.StatusOK {
		t.Fatalf("DELETE: %d", status)
	}
	waitFor(t, "1 active", func() bool { return e.Engine.Stats.Active.Load() == 1 })
	e.add("2", "two")
	if name, m := readSingle(t, st); name != "next" || m.ID != "b" || !strings.Contains(string(m.Payload), `"body":"two"`) {
		t.Fatalf("%s %+v", name, m)
	}
	// A query with @defer: each payload is a next event, then complete.
	if status, body := s.operation("d", `{ topProducts(first: 2) { upc ... @defer(label: "stock") { inStock } } }`); status != http.StatusAccepted {
		t.Fatalf("deferred query: %d %s", status, body)
	}
	var payloads []string
	for {
		name, m := readSingle(t, st)
		if m.ID != "d" {
			t.Fatalf("%s %+v", name, m)
		}
		if name == "complete" {
			break
		}
		payloads = append(payloads, string(m.Payload))
	}
	if len(payloads) < 2 || !strings.Contains(payloads[0], `"hasNext":true`) || strings.Contains(payloads[0], "inStock") ||
		!strings.Contains(payloads[len(payloads)-1], `"hasNext":false`) || !strings.Contains(strings.Join(payloads, ""), `"inStock"`) {
		t.Fatalf("deferred payloads %q", payloads)
	}
	// Bad operations are refused as over HTTP.
	for _, c := range []struct {
		id, query string
		want      int
	}{
		{"", `{ __typename }`, http.StatusBadRequest},
		{"b", `{ __typename }`, http.StatusConflict},
		{"bad", `{ nope }`, http.StatusBadRequest},
	} {
		if status, body := s.operation(c.id, c.query); status != c.want {
			t.Errorf("operation %q %q: %d %s, want %d", c.id, c.query, status, body, c.want)
		}
	}
	if status, _ := s.do("DELETE", s.url, "", s.tokenHeader()); status != http.StatusBadRequest {
		t.Errorf("DELETE without operationId: %d", status)
	}
}

func TestSSESingleConnectionAttacks(t *testing.T) {
	t.Run("guessed and foreign tokens are unknown", func(t *testing.T) {
		e, _ := jwtEnv(t)
		ada := &single{t: t, url: e.URL, header: http.Header{"Authorization": {"Bearer " + signToken(t, "ada", time.Now().Add(time.Hour))}}}
		ada.reserve()
		st := ada.open(http.StatusOK)
		if status, _ := ada.operation("mine", `subscription { reviewAdded { body } }`); status != http.StatusAccepted {
			t.Fatal(status)
		}
		eve := &single{t: t, url: e.URL, header: http.Header{"Authorization": {"Bearer " + signToken(t, "eve", time.Now().Add(time.Hour))}}}
		// Guesses: random tokens, the token with one character changed,
		// a prefix, an overlong one; and ada's own token from eve.
		guesses := []string{ada.token[:len(ada.token)-1] + "A", ada.token[:20], strings.Repeat("A", 4096), ada.token}
		if guesses[0] == ada.token {
			guesses[0] = ada.token[:len(ada.token)-1] + "B"
		}
		for i := 0; i < 200; i++ {
			b := make([]byte, 32)
			_, _ = rand.Read(b)
			guesses = append(guesses, base64.RawURLEncoding.EncodeToString(b))
		}
		for _, g := range guesses {
			eve.token = g
			if status, _ := eve.operation("steal", `subscription { reviewAdded { body } }`); status != http.StatusNotFound {
				t.Fatalf("operation with a guessed token: %d", status)
			}
			if status, _ := eve.do("DELETE", e.URL+"?operationId=mine", "", eve.tokenHeader()); status != http.StatusNotFound {
				t.Fatalf("DELETE with a guessed token: %d", status)
			}
		}
		eve.token = ada.token
		eve.open(http.StatusNotFound)
		// ada's subscription is untouched.
		e.subscribed(1)
		e.add("1", "still mine")
		if name, m := readSingle(t, st); name != "next" || m.ID != "mine" {
			t.Fatalf("%s %+v", name, m)
		}
	})
	t.Run("too many reservations", func(t *testing.T) {
		e := newEnv(t, envOptions{engine: subscriptions.Options{MaxReservations: 3}})
		s := &single{t: t, url: e.URL}
		for i := 0; i < 3; i++ {
			s.reserve()
		}
		status, body := s.do("PUT", e.URL, "", nil)
		if status != http.StatusTooManyRequests || errorCode(t, []byte(body)) != "RESERVATION_LIMIT" {
			t.Fatalf("4th PUT: %d %s", status, body)
		}
		// A stream that ends gives its place back.
		req, _ := http.NewRequest("GET", e.URL+"?token="+s.token, nil)
		req.Header.Set("Accept", "text/event-stream")
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("stream: %v %v", resp, err)
		}
		waitFor(t, "stream open", func() bool { return e.Engine.Stats.Connections.Load() == 1 })
		resp.Body.Close()
		waitFor(t, "stream closed", func() bool { return e.Engine.Stats.Connections.Load() == 0 })
		s.reserve()
	})
	t.Run("a reservation never used expires", func(t *testing.T) {
		e := newEnv(t, envOptions{engine: subscriptions.Options{MaxReservations: 2, InitTimeout: 200 * time.Millisecond}})
		s := &single{t: t, url: e.URL}
		s.reserve()
		old := s.token
		s.reserve()
		if status, _ := s.do("PUT", e.URL, "", nil); status != http.StatusTooManyRequests {
			t.Fatalf("3rd PUT: %d", status)
		}
		// Both expire at init_timeout; wait for it rather than sleeping
		// twice as long, which a loaded machine may outrun.
		waitFor(t, "both reservations expired", func() bool { return e.Engine.Reservations() == 0 })
		s.token = old
		s.open(http.StatusNotFound)
		if status, _ := s.operation("late", `{ __typename }`); status != http.StatusNotFound {
			t.Fatalf("operation on an expired reservation: %d", status)
		}
		// Both places are free again.
		s.reserve()
		s.reserve()
	})
	t.Run("a stream opened twice", func(t *testing.T) {
		e := newEnv(t, envOptions{})
		s := &single{t: t, url: e.URL}
		s.reserve()
		st := s.open(http.StatusOK)
		s.open(http.StatusConflict)
		if status, _ := s.operation("s", `subscription { reviewAdded { body } }`); status != http.StatusAccepted {
			t.Fatal(status)
		}
		e.subscribed(1)
		e.add("1", "to the first stream")
		if name, m := readSingle(t, st); name != "next" || !strings.Contains(string(m.Payload), "to the first stream") {
			t.Fatalf("%s %+v", name, m)
		}
	})
	t.Run("the stream ends its operations and voids the token", func(t *testing.T) {
		e := newEnv(t, envOptions{})
		s := &single{t: t, url: e.URL}
		s.reserve()
		req, _ := http.NewRequest("GET", e.URL+"?token="+s.token, nil)
		req.Header.Set("Accept", "text/event-stream")
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("stream by search parameter: %v %v", resp, err)
		}
		for i := 0; i < 3; i++ {
			if status, _ := s.operation(fmt.Sprint(i), `subscription { reviewAdded { body } }`); status != http.StatusAccepted {
				t.Fatal(status)
			}
		}
		waitFor(t, "3 active", func() bool { return e.Engine.Stats.Active.Load() == 3 })
		resp.Body.Close()
		waitFor(t, "released", func() bool { return e.Engine.Stats.Active.Load() == 0 && e.Engine.Stats.Connections.Load() == 0 })
		e.subscribed(0)
		if status, _ := s.operation("after", `{ __typename }`); status != http.StatusNotFound {
			t.Fatalf("operation after the stream ended: %d", status)
		}
	})
	t.Run("a client that does not read its stream is cut", func(t *testing.T) {
		e := newEnv(t, envOptions{engine: subscriptions.Options{Buffer: 4, WriteTimeout: 200 * time.Millisecond}})
		s := &single{t: t, url: e.URL}
		s.reserve()
		// Reserved, never opened: queued results beyond the buffer end it.
		for i := 0; i < 5; i++ {
			s.operation(fmt.Sprint(i), `{ __typename }`)
		}
		waitFor(t, "reservation voided", func() bool {
			status, _ := s.operation("x", `{ __typename }`)
			return status == http.StatusNotFound
		})
	})
}
