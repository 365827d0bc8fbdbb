package executor

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"
)

// TestEntityBatchPoolBound: a batch whose representations grew large
// (a few objects with long keys) is not kept for the next fetch, as a
// batch of many objects is not: the pool holds little memory either way.
func TestEntityBatchPoolBound(t *testing.T) {
	for _, size := range []int{maxPooledReps + 1, 4 << 20} {
		b := newEntityBatch()
		b.reps = append(bytes.Repeat([]byte("x"), size)[:size:size], b.reps[:0]...)
		b.release()
		// Put then Get on one goroutine hands back the same batch when
		// the pool kept it.
		again := newEntityBatch()
		if cap(again.reps) > maxPooledReps {
			t.Errorf("a batch with %d bytes of representations was kept", cap(again.reps))
		}
		again.release()
	}
}

// TestEntityBatchBodyBound: a batch whose request body buffer grew past
// maxPooledBody is not kept either.
func TestEntityBatchBodyBound(t *testing.T) {
	b := newEntityBatch()
	b.body = make([]byte, 0, maxPooledBody+1)
	b.release()
	again := newEntityBatch()
	if cap(again.body) > maxPooledBody {
		t.Errorf("a batch with a %d-byte body buffer was kept", cap(again.body))
	}
	again.release()
}

// TestEntityBodyBufferNotShared: entity fetches write their request
// bodies in the pooled batch's buffer, so a fetch's body must hold its own
// representations only, whatever a fetch before it (longer, on the same
// goroutine, so most likely in the same buffer) or beside it (concurrent)
// sent: each body is compared whole with the one its objects make.
func TestEntityBodyBufferNotShared(t *testing.T) {
	list := func(secret string, n int) (data, reps string) {
		var d, r strings.Builder
		for i := range n {
			obj := fmt.Sprintf(`{"__typename":"User","id":"%s-%d"}`, secret, i)
			if i > 0 {
				d.WriteByte(',')
				r.WriteByte(',')
			}
			d.WriteString(obj)
			r.WriteString(obj)
		}
		return `{"list":[` + d.String() + `]}`, `[` + r.String() + `]`
	}
	want := func(reps string) string {
		f := usersAndProducts()
		return string(requestBody(f, []byte(`{"representations":`+reps+`}`)))
	}
	check := func(t *testing.T, secret string, n int) {
		data, reps := list(secret, n)
		e, tr := runEntityFetch(t, data, `{"data":{"_entities":[]}}`)
		e.release()
		if len(tr.sent) != 1 {
			t.Fatalf("%s: %d requests, want 1", secret, len(tr.sent))
		}
		if got, w := tr.sent[0], want(reps); got != w {
			t.Errorf("%s: body\n%s\nwant\n%s", secret, got, w)
		}
	}
	t.Run("sequential", func(t *testing.T) {
		check(t, "long-secret-of-the-first-caller", 50)
		check(t, "b", 1)
		check(t, "c", 3)
	})
	t.Run("concurrent", func(t *testing.T) {
		var wg sync.WaitGroup
		for g := range 8 {
			wg.Go(func() {
				for i := range 50 {
					check(t, fmt.Sprintf("caller%d", g), 1+(i*7+g)%20)
				}
			})
		}
		wg.Wait()
	})
}
