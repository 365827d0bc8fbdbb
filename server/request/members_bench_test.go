package request

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
)

// hostileBody fills a request body of about n bytes with variables of
// one shape.
func hostileBody(n int, shape string) []byte {
	var b strings.Builder
	b.WriteString(`{"query":"{ me { id } }","variables":{"v":`)
	switch shape {
	case "members":
		b.WriteString("{")
		for i := 0; b.Len() < n; i++ {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(`"` + strconv.Itoa(i) + `":1`)
		}
		b.WriteString("}")
	case "objects of 17":
		b.WriteString("[")
		for i := 0; b.Len() < n; i++ {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(`{"a":1,"b":1,"c":1,"d":1,"e":1,"f":1,"g":1,"h":1,"i":1,"j":1,"k":1,"l":1,"m":1,"n":1,"o":1,"p":1,"q":1}`)
		}
		b.WriteString("]")
	case "objects of 16":
		b.WriteString("[")
		for i := 0; b.Len() < n; i++ {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(`{"a":1,"b":1,"c":1,"d":1,"e":1,"f":1,"g":1,"h":1,"i":1,"j":1,"k":1,"l":1,"m":1,"n":1,"o":1,"p":1}`)
		}
		b.WriteString("]")
	case "long equal prefixes":
		b.WriteString("{")
		p := strings.Repeat("x", 60)
		for i := 0; b.Len() < n; i++ {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(`"` + p + strconv.Itoa(i) + `":1`)
		}
		b.WriteString("}")
	case "numbers":
		b.WriteString("[")
		for i := 0; b.Len() < n; i++ {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString("1")
		}
		b.WriteString("]")
	}
	b.WriteString("}}")
	return []byte(b.String())
}

func BenchmarkDecodeHostileVariables(b *testing.B) {
	for _, shape := range []string{"numbers", "members", "objects of 16", "objects of 17", "long equal prefixes"} {
		b.Run(strings.ReplaceAll(shape, " ", "_"), func(b *testing.B) {
			body := hostileBody(2<<20-4<<10, shape)
			opt := DefaultOptions()
			r := httptest.NewRequest(http.MethodPost, "/graphql", nil)
			r.Header.Set("Content-Type", "application/json")
			rd := bytes.NewReader(body)
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				rd.Reset(body)
				r.Body = readCloser{rd}
				r.ContentLength = int64(len(body))
				if _, _, err := Decode(r, opt); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
