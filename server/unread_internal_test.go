package server

import "testing"

// TestWritingBudget: one client
// holds at most three quarters (its first answer always fits an empty
// budget, however large); the budget refuses past its bytes; what is
// given back is free again.
func TestWritingBudget(t *testing.T) {
	const max = 1 << 20 // a client's share: 768 KiB
	type step struct {
		client string
		n      int64
		give   bool   // give n back instead of taking it
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
				if err := b.take(s.client, s.n); err != nil {
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
	if newWritingBudget(0) != nil || newWritingBudget(-1).take("a", 1<<30) != nil {
		t.Fatal("max_writing_bytes 0 must be no budget")
	}
}
