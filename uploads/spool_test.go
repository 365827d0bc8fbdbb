package uploads

import (
	"bytes"
	"errors"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"

	"github.com/fedgate/gateway/internal/reqerr"
)

// spoolBody is a multipart request of two files, "0" (size bytes) and
// then "1" (a few bytes), for variables a and b; mid is the offset of the
// middle of file 0 in it.
func spoolBody(t *testing.T, size int) (body []byte, boundary string, mid int) {
	t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(mw.WriteField("operations", `{"query":"mutation M($a: Upload, $b: Upload) { x }","variables":{"a":null,"b":null}}`))
	must(mw.WriteField("map", `{"0":["variables.a"],"1":["variables.b"]}`))
	w, err := mw.CreateFormFile("0", "zero.bin")
	must(err)
	mid = b.Len() + size/2
	_, err = w.Write(bytes.Repeat([]byte{'z'}, size))
	must(err)
	w, err = mw.CreateFormFile("1", "one.txt")
	must(err)
	_, err = w.Write([]byte("one"))
	must(err)
	must(mw.Close())
	return b.Bytes(), mw.Boundary(), mid
}

// brokenBody is a client that goes away after n bytes of body.
type brokenBody struct {
	r io.Reader
}

func (b *brokenBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err == io.EOF {
		return n, errors.New("connection reset by peer")
	}
	return n, err
}

// spoolMode makes an upload spool file 0, as a fetch would.
type spoolMode struct {
	name string
	// spool spools file 0 of u and returns when it is whole, or failed.
	spool func(u *Upload)
}

var spoolModes = []spoolMode{
	{"skip: file 0 arrives before file 1, which a fetch opens first", func(u *Upload) {
		u.files[0].refs.Store(1)
		u.files[1].refs.Store(1)
		r, done, err := u.open(u.files[1])
		if err == nil {
			_, _ = io.Copy(io.Discard, r)
			done()
		}
	}},
	{"tee: file 0 goes to two fetches", func(u *Upload) {
		u.files[0].refs.Store(2)
		r, done, err := u.open(u.files[0])
		if err == nil {
			_, _ = io.Copy(io.Discard, r)
			done()
		}
	}},
}

// whole reports that nothing of b is taken.
func whole(b *SpoolBudget) bool {
	if !b.sem.TryAcquire(b.max) {
		return false
	}
	b.sem.Release(b.max)
	return true
}

// TestSpoolBudgetAcrossRequests: requests that each stay within their
// own limits (max_total_bytes) but spool at once more than
// max_spool_bytes together are refused past it with 503
// UPLOAD_SPOOL_FULL, at once (no waiting for the others); once they are
// answered the budget is whole again. Without the budget all of them
// spool.
func TestSpoolBudgetAcrossRequests(t *testing.T) {
	const size, requests = 64 << 10, 4
	for _, mode := range spoolModes {
		t.Run(mode.name, func(t *testing.T) {
			budget := NewSpoolBudget(size*5/2, size*5/2) // room for two files, all for one client
			body, boundary, _ := spoolBody(t, size)
			// One request after another, each holding its spool until
			// all have run: requests spooling at the same moment take
			// the budget write by write, so which of them get through
			// depends on the interleaving (CI saw 1 and 3).
			var ok, full int
			var held []*Upload
			for range requests {
				u, err := Parse(bytes.NewReader(body), boundary, testConfig(), ParseOptions{MaxOperations: 1 << 20, Spool: budget})
				if err != nil {
					t.Fatal(err)
				}
				held = append(held, u)
				mode.spool(u)
				switch err := u.Err(); {
				case err == nil:
					ok++
				case code(err) == CodeSpoolFull && reqerr.Status(err) == http.StatusServiceUnavailable:
					full++
				default:
					t.Errorf("unexpected error %v (%s)", err, code(err))
				}
			}
			for _, u := range held {
				if err := u.Close(); err != nil {
					t.Errorf("close: %v", err)
				}
			}
			if ok != 2 || full != requests-2 {
				t.Errorf("%d spooled and %d refused with %s, want 2 and %d", ok, full, CodeSpoolFull, requests-2)
			}
			if !whole(budget) {
				t.Error("the spool budget is not whole once every request is closed")
			}
		})
	}
}

// TestSpoolBudgetGivenBack: every way a spool ends gives its bytes back,
// at once where the spool is dropped, at Close where it was kept.
func TestSpoolBudgetGivenBack(t *testing.T) {
	const size = 64 << 10
	for _, tc := range []struct {
		name   string
		budget int64
		broken bool // the client goes away in the middle of file 0
		run    func(u *Upload)
		code   string // u.Err's code; "" none
		// kept is whether the budget holds bytes before Close.
		kept bool
	}{
		{name: "skip, client gone mid-file", budget: 2 * size, broken: true, run: spoolModes[0].spool, code: CodeMalformed},
		{name: "tee, client gone mid-file", budget: 2 * size, broken: true, run: spoolModes[1].spool, code: CodeMalformed},
		{name: "skip, budget spent mid-file", budget: size / 2, run: spoolModes[0].spool, code: CodeSpoolFull},
		{name: "tee, budget spent mid-file", budget: size / 2, run: spoolModes[1].spool, code: CodeSpoolFull},
		{name: "tee, the fetch fails after a few bytes", budget: 2 * size, kept: true, run: func(u *Upload) {
			u.files[0].refs.Store(2)
			r, done, err := u.open(u.files[0])
			if err != nil {
				t.Fatal(err)
			}
			_, _ = io.ReadFull(r, make([]byte, 10)) // the subgraph stops reading
			done()                                  // the rest is still spooled for the second fetch
		}},
		{name: "skip, whole", budget: 2 * size, kept: true, run: spoolModes[0].spool},
	} {
		t.Run(tc.name, func(t *testing.T) {
			budget := NewSpoolBudget(tc.budget, tc.budget)
			body, boundary, mid := spoolBody(t, size)
			var r io.Reader = bytes.NewReader(body)
			if tc.broken {
				r = &brokenBody{r: bytes.NewReader(body[:mid])}
			}
			u, err := Parse(r, boundary, testConfig(), ParseOptions{MaxOperations: 1 << 20, Spool: budget})
			if err != nil {
				t.Fatal(err)
			}
			tc.run(u)
			if got := code(u.Err()); got != tc.code {
				t.Errorf("error %v (%q), want %q", u.Err(), got, tc.code)
			}
			if got := whole(budget); got == tc.kept {
				t.Errorf("before Close: budget whole %v, want %v", got, !tc.kept)
			}
			if tc.kept && u.files[0].spool == nil {
				t.Error("file 0 was not kept")
			}
			if err := u.Close(); err != nil {
				t.Errorf("close: %v", err)
			}
			if !whole(budget) {
				t.Error("the spool budget is not whole after Close")
			}
		})
	}
}

// TestSpoolBudgetNone: max_spool_bytes 0 is no process-wide cap.
func TestSpoolBudgetNone(t *testing.T) {
	if NewSpoolBudget(0, 1) != nil || NewSpoolBudget(-1, 1) != nil {
		t.Fatal("a budget of 0 bytes must be none")
	}
	body, boundary, _ := spoolBody(t, 64<<10)
	u, err := Parse(bytes.NewReader(body), boundary, testConfig(), ParseOptions{MaxOperations: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	spoolModes[0].spool(u)
	if err := u.Err(); err != nil || u.files[0].spool == nil {
		t.Fatalf("without a budget the file must be spooled: %v", err)
	}
	if !strings.HasPrefix(CodeSpoolFull, "UPLOAD_") {
		t.Fatal("CodeSpoolFull must be an upload error (its status kept for every media type)")
	}
}

// TestSpoolClientShare: one client's uploads hold at most three
// quarters of max_spool_bytes, whether or not another client uploads at
// that moment: past it they are refused with 429
// UPLOAD_SPOOL_CLIENT_LIMIT, and the others find the rest free of it.
// Before, the share bound only while another client used the spool: a
// client alone took all of it, and the next client got 503
// UPLOAD_SPOOL_FULL for as long as it held it.
func TestSpoolClientShare(t *testing.T) {
	const size, files = 64 << 10, 8 // the budget holds 8 files, the share 6
	body, boundary, _ := spoolBody(t, size)
	for _, tc := range []struct {
		name string
		// otherHolds: client b spooled a file it still holds before a's
		// uploads.
		otherHolds bool
	}{
		{name: "alone"},
		{name: "another client holds some", otherHolds: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			budget := NewSpoolBudget(files*size, size)
			var held []*Upload
			defer func() {
				for _, u := range held {
					_ = u.Close()
				}
				if !whole(budget) {
					t.Error("the spool budget is not whole once every request is closed")
				}
			}()
			spool := func(client string) error {
				u, err := Parse(bytes.NewReader(body), boundary, testConfig(), ParseOptions{MaxOperations: 1 << 20, Spool: budget, Client: client})
				if err != nil {
					t.Fatal(err)
				}
				held = append(held, u)
				spoolModes[0].spool(u)
				return u.Err()
			}
			if tc.otherHolds {
				if err := spool("b"); err != nil {
					t.Fatal(err)
				}
			}
			got := 0
			for i := range files {
				err := spool("a")
				if err == nil {
					got++
					continue
				}
				if code(err) != CodeSpoolClientLimit || reqerr.Status(err) != http.StatusTooManyRequests {
					t.Errorf("upload %d of a: %v (%s, %d), want %s 429", i, err, code(err), reqerr.Status(err), CodeSpoolClientLimit)
				}
			}
			if got != 6 {
				t.Errorf("%d of a's %d uploads spooled, want 6", got, files)
			}
			if err := spool("b"); err != nil {
				t.Errorf("b's upload beside a's: %v, want it spooled", err)
			}
		})
	}
}

// TestClientSpoolShare: three quarters of the budget, or one request's
// spool when that is more, never more than the budget.
func TestClientSpoolShare(t *testing.T) {
	for _, tc := range []struct{ budget, perRequest, want int64 }{
		{256 << 20, 50 << 20, 192 << 20}, // the defaults
		{400, 100, 300},
		{400, 350, 350}, // a client alone still spools a whole request
		{400, 1000, 400},
		{3, 1, 3}, // a quarter rounds down
	} {
		if got := clientSpoolShare(tc.budget, tc.perRequest); got != tc.want {
			t.Errorf("clientSpoolShare(%d, %d) = %d, want %d", tc.budget, tc.perRequest, got, tc.want)
		}
	}
}
