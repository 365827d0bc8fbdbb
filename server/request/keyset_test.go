package request

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
)

// objectOf writes an object of the keys with the value 1.
func objectOf(keys []string) string {
	var b strings.Builder
	b.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`"` + k + `":1`)
	}
	b.WriteByte('}')
	return b.String()
}

// distinct returns n distinct keys.
func distinct(n int) []string {
	keys := make([]string, n)
	for i := range keys {
		keys[i] = "k" + strconv.Itoa(i)
	}
	return keys
}

// TestKeySetFindsDuplicates: a repeated key is found whatever the
// object's size (the list, the table, a table grown while the object is
// read), its place, its spelling (an escape spells the same key) and the
// objects read before it at the same depth (the table is reused).
func TestKeySetFindsDuplicates(t *testing.T) {
	type tc struct {
		name string
		body string
		dup  bool
	}
	var cases []tc
	for _, n := range []int{2, 8, 9, 16, 17, 33, 1000, 5000} {
		keys := distinct(n)
		cases = append(cases,
			tc{fmt.Sprintf("%d distinct", n), objectOf(keys), false},
			tc{fmt.Sprintf("%d, last repeats first", n), objectOf(append(keys[:n:n], keys[0])), true},
			tc{fmt.Sprintf("%d, last repeats middle", n), objectOf(append(keys[:n:n], keys[n/2])), true},
			tc{fmt.Sprintf("%d, last repeats last", n), objectOf(append(keys[:n:n], keys[n-1])), true},
			tc{fmt.Sprintf("%d, escaped repeat", n), objectOf(append(keys[:n:n], `\u006b`+keys[n/2][1:])), true},
			tc{fmt.Sprintf("%d, escaped key repeated plainly", n), objectOf(append(append([]string{`\u006bx`}, keys...), "kx")), true},
			// Siblings at one depth: a big object, then small ones
			// that share keys with it but not among themselves.
			tc{fmt.Sprintf("%d, siblings", n), "[" + objectOf(keys) + "," + objectOf(keys[:min(n, 20)]) + "," + objectOf(keys) + "]", false},
			tc{fmt.Sprintf("%d, siblings, last repeats", n), "[" + objectOf(keys) + "," + objectOf(keys) + "," + objectOf(append(keys[:n:n], keys[n/3])) + "]", true},
		)
	}
	for _, c := range cases {
		s := scanner{data: []byte(c.body)}
		_, err := s.value(0)
		if got := err != nil; got != c.dup {
			t.Errorf("%s: error %v, want a duplicate: %v", c.name, err, c.dup)
		}
		if err != nil && !strings.Contains(err.Error(), "duplicate object key") {
			t.Errorf("%s: %v", c.name, err)
		}
	}
}

// TestKeySetGenerationsWrap: more objects at one depth than the table has
// generations still tell each object's keys apart from an earlier one's:
// objects of a few keys count generations without writing the table, so
// its slots from the first object carry a generation that comes back
// once the count wraps.
func TestKeySetGenerationsWrap(t *testing.T) {
	big := objectOf(distinct(20))
	// The last object's table lands on the first one's generation for
	// one of these counts.
	for smalls := maxGen - 4; smalls <= maxGen+1; smalls++ {
		small := strings.Repeat(`{"k0":1},`, smalls)
		for _, tc := range []struct {
			name, body string
			dup        bool
		}{
			{"distinct", "[" + big + "," + small + big + "]", false},
			{"last repeats", "[" + big + "," + small + objectOf(append(distinct(20), "k3")) + "]", true},
		} {
			s := scanner{data: []byte(tc.body)}
			_, err := s.value(0)
			if got := err != nil; got != tc.dup {
				t.Errorf("%d objects between, %s: error %v, want a duplicate: %v", smalls, tc.name, err, tc.dup)
			}
		}
	}
}

// TestObjectKeysAllocateOnce: the keys of many objects past the list's
// size are checked without an allocation per object. Before, each made a
// map of its own: a 2 MiB body of objects of 17 keys allocated 42 MB
// (80,000 allocations) and cost 78 ms of decoding; the same body of 2,000
// such objects made 2,000 maps.
func TestObjectKeysAllocateOnce(t *testing.T) {
	objects := make([]string, 2000)
	for i := range objects {
		objects[i] = objectOf(distinct(17))
	}
	body := []byte(`{"query":"{ a }","variables":{"v":[` + strings.Join(objects, ",") + `]}}`)
	opt := DefaultOptions()
	allocs := testing.AllocsPerRun(5, func() {
		r := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		if _, _, err := Decode(r, opt); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 100 {
		t.Fatalf("%.0f allocations for 2,000 objects of 17 keys", allocs)
	}
}
