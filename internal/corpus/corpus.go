package corpus

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// File is the corpus path under a shared directory.
const File = "corpus/hostile.jsonl"

// DefaultAccept is the Accept header of every request unless the line's
// headers set another.
const DefaultAccept = "application/graphql-response+json, application/json"

// Line is one line of the corpus. At most one body source is set: BodyJSON,
// Raw, RawB64 or Gen.
type Line struct {
	Name    string            `json:"name"`
	Class   string            `json:"class"`
	Method  string            `json:"method"` // POST when empty
	Headers map[string]string `json:"headers"`
	// URLQuery holds the URL query parameters (GET requests).
	URLQuery map[string]string `json:"url_query"`
	// BodyJSON is the "body" field: sent as it stands in the line.
	BodyJSON json.RawMessage `json:"body"`
	// Raw is sent verbatim.
	Raw *string `json:"raw"`
	// RawB64 is sent base64-decoded (invalid UTF-8, gzip).
	RawB64 *string `json:"raw_b64"`
	// Gen generates a big body.
	Gen *Gen `json:"gen"`
	// HeaderGen generates header values, by header name.
	HeaderGen    map[string]HeaderGen `json:"header_gen"`
	Expect       string               `json:"expect"` // prose
	ExpectStatus []int                `json:"expect_status"`
	ExpectCode   []string             `json:"expect_code"`
}

// Gen generates a big input: with Target "query" its text is the query of
// a {"query": text} body, with Target "raw" it is the whole body.
type Gen struct {
	Target   string `json:"target"`
	Prefix   string `json:"prefix"`
	Unit     string `json:"unit"`
	Count    int    `json:"count"`
	Sep      string `json:"sep"`
	Middle   string `json:"middle"`
	TailUnit string `json:"tail_unit"`
	Suffix   string `json:"suffix"`
}

// Text returns prefix + sep.join(unit with "{i}" replaced by i, for i in
// range(count)) + middle + tail_unit*count + suffix.
func (g *Gen) Text() string {
	var b strings.Builder
	b.WriteString(g.Prefix)
	for i := range g.Count {
		if i > 0 {
			b.WriteString(g.Sep)
		}
		b.WriteString(strings.ReplaceAll(g.Unit, "{i}", strconv.Itoa(i)))
	}
	b.WriteString(g.Middle)
	b.WriteString(strings.Repeat(g.TailUnit, g.Count))
	b.WriteString(g.Suffix)
	return b.String()
}

// HeaderGen generates a header value.
type HeaderGen struct {
	Prefix string `json:"prefix"`
	Unit   string `json:"unit"`
	Count  int    `json:"count"`
}

// Text returns prefix + unit*count.
func (h HeaderGen) Text() string {
	return h.Prefix + strings.Repeat(h.Unit, h.Count)
}

// Load reads the corpus: shared/corpus/hostile.jsonl when it is found in
// up to four parent directories of the test's working directory (the
// package directory), otherwise the repository's copy,
// testdata/corpus/hostile.jsonl, so that a clone without the shared folder
// (CI) still runs every hostile request. TestCopyIsCurrent keeps the copy
// equal to the shared file.
func Load(t testing.TB) []Line {
	t.Helper()
	path := find()
	if path == "" {
		path = repoCopy()
	}
	if path == "" {
		t.Fatal("neither shared/" + File + " nor the repository's testdata/" + File + " was found")
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	lines, err := parse(f)
	if err != nil {
		t.Fatal(err)
	}
	return lines
}

// find returns the shared corpus path, or "" when there is none.
func find() string {
	dir := ".."
	for range 4 {
		p := filepath.Join(dir, "shared", filepath.FromSlash(File))
		if _, err := os.Stat(p); err == nil {
			return p
		}
		dir = filepath.Join(dir, "..")
	}
	return ""
}

// repoCopy returns the path of testdata/corpus/hostile.jsonl in the
// module root above the working directory, or "".
func repoCopy() string {
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			p := filepath.Join(dir, "testdata", filepath.FromSlash(File))
			if _, err := os.Stat(p); err == nil {
				return p
			}
			return ""
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// parse reads JSONL lines, passing over blank ones.
func parse(r io.Reader) ([]Line, error) {
	var lines []Line
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 4<<20)
	for sc.Scan() {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		var l Line
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			return nil, fmt.Errorf("corpus line %d: %w", len(lines)+1, err)
		}
		lines = append(lines, l)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return lines, nil
}

// Body returns the bytes the line sends: the body JSON, raw, raw_b64
// decoded, or the generated text (as {"query": text} for target "query").
// It is nil when the line has no body source.
func (l Line) Body() ([]byte, error) {
	switch {
	case l.Gen != nil && l.Gen.Target == "query":
		return json.Marshal(map[string]string{"query": l.Gen.Text()})
	case l.Gen != nil:
		return []byte(l.Gen.Text()), nil
	case l.BodyJSON != nil:
		return l.BodyJSON, nil
	case l.Raw != nil:
		return []byte(*l.Raw), nil
	case l.RawB64 != nil:
		return base64.StdEncoding.DecodeString(*l.RawB64)
	}
	return nil, nil
}

// Query returns the GraphQL document the line carries: the query URL
// parameter, the generated query, or the "query" member of a JSON body.
// It reports false when there is none (or the body does not decode).
func (l Line) Query() (string, bool) {
	if q, ok := l.URLQuery["query"]; ok {
		return q, true
	}
	if l.Gen != nil && l.Gen.Target == "query" {
		return l.Gen.Text(), true
	}
	body, err := l.Body()
	if err != nil {
		return "", false
	}
	var env struct {
		Query string `json:"query"`
	}
	if json.Unmarshal(body, &env) != nil || env.Query == "" {
		return "", false
	}
	return env.Query, true
}

// NewRequest builds the HTTP request the line describes, sent to baseURL
// (the GraphQL endpoint, such as http://127.0.0.1:8080/graphql): its
// method, url_query as URL parameters, its body, the default Accept header,
// its headers and its generated headers.
func (l Line) NewRequest(baseURL string) (*http.Request, error) {
	u, err := url.Parse(baseURL)
	if err != nil {
		return nil, err
	}
	if len(l.URLQuery) > 0 {
		q := u.Query()
		for k, v := range l.URLQuery {
			q.Set(k, v)
		}
		u.RawQuery = q.Encode()
	}
	body, err := l.Body()
	if err != nil {
		return nil, fmt.Errorf("corpus line %s: %w", l.Name, err)
	}
	method := l.Method
	if method == "" {
		method = http.MethodPost
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, u.String(), rd)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", DefaultAccept)
	for k, v := range l.Headers {
		req.Header.Set(k, v)
	}
	for k, g := range l.HeaderGen {
		req.Header.Set(k, g.Text())
	}
	return req, nil
}
