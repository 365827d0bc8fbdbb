package server_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/fedgate/gateway/internal/gatewaytest"
	"github.com/fedgate/gateway/schema/compose"
	"github.com/fedgate/gateway/server"
)

// fileSubgraph is a subgraph whose one mutation field takes a file: it
// reads the multipart request in order, as a streaming subgraph server
// would, and answers "size:sha256" of the file.
func fileSubgraph(field string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if !strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
			_, _ = io.WriteString(w, `{"data":{"_service":null}}`)
			return
		}
		mr, err := r.MultipartReader()
		if err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		var ops struct {
			Variables map[string]any `json:"variables"`
		}
		var answer string
		for i := 0; ; i++ {
			p, err := mr.NextPart()
			if err == io.EOF {
				break
			}
			if err != nil {
				http.Error(w, err.Error(), 400)
				return
			}
			switch {
			case i == 0 && p.FormName() == "operations":
				_ = json.NewDecoder(p).Decode(&ops)
			case i == 1 && p.FormName() == "map":
			case i == 2:
				h := sha256.New()
				n, err := io.Copy(h, p)
				if err != nil {
					http.Error(w, err.Error(), 400)
					return
				}
				answer = fmt.Sprintf("%d:%s", n, hex.EncodeToString(h.Sum(nil)))
			default:
				http.Error(w, "unexpected part "+p.FormName(), 400)
				return
			}
		}
		if ops.Variables["file"] != nil {
			http.Error(w, "the file's variable is not null", 400)
			return
		}
		fmt.Fprintf(w, `{"data":{%q:%q}}`, field, answer)
	})
}

// TestUploadTwoSubgraphs sends one file to each of two subgraphs in one
// mutation, the second subgraph's file first: it waits in a spool file
// while the first streams.
func TestUploadTwoSubgraphs(t *testing.T) {
	sdl := func(field string) string {
		return `extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
scalar Upload
type Query { ` + field + `Ping: String }
type Mutation { ` + field + `(file: Upload!): String }
`
	}
	res, err := compose.Compose([]compose.Subgraph{{Name: "docs", URL: "http://docs", SDL: sdl("storeDoc")}, {Name: "media", URL: "http://media", SDL: sdl("storeMedia")}})
	if err != nil {
		t.Fatal(err)
	}
	opts := server.DefaultOptions()
	opts.Uploads = uploadLimits()
	opts.Uploads.Enabled = true
	g := gatewaytest.Start(t, gatewaytest.WithSupergraph(res.SDL), gatewaytest.WithServerOptions(opts),
		gatewaytest.WithHandler("docs", fileSubgraph("storeDoc")), gatewaytest.WithHandler("media", fileSubgraph("storeMedia")))
	doc, media := strings.Repeat("d", 700_000), strings.Repeat("m", 500_000)
	q := `{"query":"mutation($d: Upload!, $m: Upload!) { storeDoc(file: $d) storeMedia(file: $m) }","variables":{"d":null,"m":null}}`
	body, ct := multipartBody(t, part{name: "operations", body: q}, part{name: "map", body: `{"m":["variables.m"],"d":["variables.d"]}`},
		part{name: "m", filename: "m", body: media}, part{name: "d", filename: "d", body: doc})
	a := postUpload(t, g, body, ct, true)
	if a.status != 200 || len(a.body.Errors) > 0 {
		t.Fatalf("status %d: %s", a.status, a.raw)
	}
	want := map[string]string{"storeDoc": fmt.Sprintf("%d:%s", len(doc), sha256Hex(doc)), "storeMedia": fmt.Sprintf("%d:%s", len(media), sha256Hex(media))}
	for k, v := range want {
		var got string
		_ = json.Unmarshal(a.body.Data[k], &got)
		if got != v {
			t.Errorf("%s: got %q, want %q", k, got, v)
		}
	}
	if g.Subgraphs["docs"].Count() != 1 || g.Subgraphs["media"].Count() != 1 {
		t.Fatalf("docs %d, media %d requests", g.Subgraphs["docs"].Count(), g.Subgraphs["media"].Count())
	}
}
