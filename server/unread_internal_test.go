package server

import "testing"

// TestWritingBudget: one client
// holds at most three quarters (its first answer always fits an empty
// budget, however large); the budget refuses past its bytes, but never a
// mutation's answer, which it counts; what is given back is free again.
func TestWritingBudget(t *testing.T) {
	const max = 1 << 20 // a client's share: 768 KiB
	type step struct {
		client string
		n      int64
		give   bool   // give n back instead of taking it
		ran    bool   // a mutation's answer: counted, never refused
		want   string // the refusal's code, "" taken
	}
	for _, tc := range []struct {
		name  string
		steps []step
		used  int64 // in use at the end
	}{
		{name: "nothing takes nothing", steps: []step{{client: "a", n: 0}, {client: "a", n: 0}}, used: 0},
		{name: "a client past its share", steps: []step{{client: "a", n: 512 << 10}, {client: "a", n: 256 << 10}, {client: "a", n: unreadFloor, want: CodeClientUnreadLimit}, {client: "b", n: 256 << 10}}, used: max},
		{name: "the budget full", steps: []step{{client: "a", n: 512 << 10}, {client: "b", n: 512 << 10}, {client: "c", n: unreadFloor, want: CodeOverloaded}}, used: max},
		{name: "one answer larger than the budget", steps: []step{{client: "a", n: 2 * max}, {client: "b", n: unreadFloor, want: CodeOverloaded}}, used: 2 * max},
		{name: "a mutation's answer past the share and the budget", steps: []step{{client: "a", n: 768 << 10}, {client: "b", n: 256 << 10}, {client: "a", n: unreadFloor, ran: true}, {client: "c", n: unreadFloor, ran: true}, {client: "c", n: unreadFloor, want: CodeOverloaded}}, used: max + 2*unreadFloor},
		{name: "given back", steps: []step{{client: "a", n: 768 << 10}, {client: "a", n: 768 << 10, give: true}, {client: "a", n: 768 << 10}, {client: "b", n: 256 << 10}}, used: max},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newWritingBudget(max)
			for i, s := range tc.steps {
				if s.give {
					b.give(s.client, s.n)
					continue
				}
				got := ""
				if err := b.take(s.client, s.n, s.ran); err != nil {
					got = err.Code
				}
				if got != s.want {
					t.Fatalf("step %d: %s takes %d: %q, want %q", i, s.client, s.n, got, s.want)
				}
			}
			if got := b.inUse(); got != tc.used {
				t.Fatalf("in use %d, want %d", got, tc.used)
			}
		})
	}
	if newWritingBudget(0) != nil || newWritingBudget(-1).take("a", 1<<30, false) != nil {
		t.Fatal("max_writing_bytes 0 must be no budget")
	}
}

// TestWritingBudgetSharedAnswer: readers writing one shared answer (the
// response cache's buffer) count it once while any of them holds it,
// whoever they are; the last to finish gives it back. Counted per
// reader, ten slow readers of a cached 400 KiB answer took 4 MB of a
// 1 MiB budget's room (the fourth was refused) where 400 KiB were held.
func TestWritingBudgetSharedAnswer(t *testing.T) {
	const max = 1 << 20
	b := newWritingBudget(max)
	cached := make([]byte, 400<<10)
	for i := range 10 {
		if err, ok := b.takeShared(string(rune('a'+i%3)), cached, false); err != nil || !ok {
			t.Fatalf("reader %d of the cached answer: %v %v", i, err, ok)
		}
	}
	if got := b.inUse(); got != int64(len(cached)) {
		t.Fatalf("ten readers of one shared answer: %d in use, want %d", got, len(cached))
	}
	// Another answer of the same length in another buffer counts apart.
	other := make([]byte, len(cached))
	if err, _ := b.takeShared("d", other, false); err != nil {
		t.Fatalf("another shared answer: %v", err)
	}
	if got := b.inUse(); got != 2*int64(len(cached)) {
		t.Fatalf("two shared answers: %d in use, want %d", got, 2*len(cached))
	}
	b.giveShared("d", other)
	for i := range 9 {
		b.giveShared(string(rune('a'+i%3)), cached)
	}
	if got := b.inUse(); got != int64(len(cached)) {
		t.Fatalf("one reader left: %d in use, want %d", got, len(cached))
	}
	b.giveShared(string(rune('a'+9%3)), cached)
	if got := b.inUse(); got != 0 {
		t.Fatalf("all readers done: %d in use, want 0", got)
	}
}

// TestSharedAnswerCharge: a shared answer is charged to a client that
// still reads it. Before, it stayed charged to the first reader's client
// until the last reader finished, so a client that fetched a popular
// answer first kept it against its share while another client stalled
// reading it, and its next answers were refused (rev, session 18); and
// two answers cut from one buffer with different lengths shared one
// count, so the first one's bytes were never given back.
func TestSharedAnswerCharge(t *testing.T) {
	const max = 1 << 20
	buf := make([]byte, 600<<10)
	tests := []struct {
		name string
		run  func(t *testing.T, b *writingBudget)
		held map[string]int64
	}{
		{
			name: "charge moves to a reader left",
			run: func(t *testing.T, b *writingBudget) {
				mustTakeShared(t, b, "a", buf)
				mustTakeShared(t, b, "b", buf)
				b.giveShared("a", buf)
				if err := b.take("a", 200<<10, false); err != nil {
					t.Errorf("a refused while only b reads the shared answer: %v", err)
				}
				b.give("a", 200<<10)
			},
			held: map[string]int64{"b": 600 << 10},
		},
		{
			name: "charged client still reading keeps it",
			run: func(t *testing.T, b *writingBudget) {
				mustTakeShared(t, b, "a", buf)
				mustTakeShared(t, b, "a", buf)
				mustTakeShared(t, b, "b", buf)
				b.giveShared("a", buf)
			},
			held: map[string]int64{"a": 600 << 10},
		},
		{
			name: "a reader that holds nothing gives nothing",
			run: func(t *testing.T, b *writingBudget) {
				mustTakeShared(t, b, "a", buf)
				b.giveShared("c", buf)
			},
			held: map[string]int64{"a": 600 << 10},
		},
		{
			name: "cuts of one buffer count apart",
			run: func(t *testing.T, b *writingBudget) {
				mustTakeShared(t, b, "a", buf[:100<<10])
				mustTakeShared(t, b, "a", buf[:200<<10])
				b.giveShared("a", buf[:100<<10])
				b.giveShared("a", buf[:200<<10])
			},
			held: map[string]int64{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newWritingBudget(max)
			tt.run(t, b)
			var want int64
			for _, n := range tt.held {
				want += n
			}
			if len(b.held) != len(tt.held) {
				t.Fatalf("held %v, want %v", b.held, tt.held)
			}
			for c, n := range tt.held {
				if b.held[c] != n {
					t.Fatalf("held %v, want %v", b.held, tt.held)
				}
			}
			if got := b.inUse(); got != want {
				t.Fatalf("%d in use, want %d", got, want)
			}
		})
	}
}

func mustTakeShared(t *testing.T, b *writingBudget, client string, buf []byte) {
	t.Helper()
	if err, ok := b.takeShared(client, buf, false); err != nil || !ok {
		t.Fatalf("%s takes the shared answer: %v %v", client, err, ok)
	}
}
