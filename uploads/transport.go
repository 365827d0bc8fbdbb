package uploads

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"sort"
	"strconv"
	"strings"

	"github.com/fedgate/gateway/executor"
)

type ctxKey struct{}

// NewContext returns ctx carrying u, for Transport.
func NewContext(ctx context.Context, u *Upload) context.Context {
	return context.WithValue(ctx, ctxKey{}, u)
}

// FromContext returns the upload of ctx, nil when it has none.
func FromContext(ctx context.Context) *Upload {
	u, _ := ctx.Value(ctxKey{}).(*Upload)
	return u
}

// Transport wraps next: a fetch of a request with an upload whose
// variables hold file placeholders is sent as a multipart request (GraphQL
// multipart request spec) with the files streamed from the client's body.
// Every other fetch passes through.
func Transport(next executor.Transport) executor.Transport { return &transport{next: next} }

type transport struct{ next executor.Transport }

// errFetchEnded stops a file stream whose fetch has its answer.
var errFetchEnded = errors.New("uploads: the fetch ended")

func (t *transport) Fetch(ctx context.Context, subgraph string, req *executor.Request) (*executor.Response, error) {
	u := FromContext(ctx)
	if u == nil || !bytes.Contains(req.Body, []byte(placeholderPrefix)) {
		return t.next.Fetch(ctx, subgraph, req)
	}
	ops, files, err := u.split(req.Body)
	if err != nil {
		return nil, &executor.FetchError{Code: "SUBREQUEST_HTTP_ERROR", Message: err.Error()}
	}
	if len(files) == 0 {
		return t.next.Fetch(ctx, subgraph, req)
	}
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	out := *req
	out.Stream = pr
	out.ContentType = mw.FormDataContentType()
	out.Header = req.Header.Clone()
	if out.Header == nil {
		out.Header = http.Header{}
	}
	// Subgraphs with CSRF prevention (Apollo Server) want a preflight
	// header on a multipart request.
	out.Header.Set("Apollo-Require-Preflight", "true")
	written := make(chan struct{})
	go func() {
		defer close(written)
		pw.CloseWithError(u.write(mw, ops, files))
	}()
	resp, ferr := t.next.Fetch(ctx, subgraph, &out)
	pr.CloseWithError(errFetchEnded)
	<-written
	return resp, ferr
}

// fetchFile is a file one fetch sends, and its paths in the fetch's
// variables.
type fetchFile struct {
	f     *file
	paths []string
}

// split replaces the placeholders in the variables of a subgraph request
// body with null and returns the body and the files, in the client's map
// order.
func (u *Upload) split(body []byte) ([]byte, []fetchFile, error) {
	var msg map[string]json.RawMessage
	if err := json.Unmarshal(body, &msg); err != nil {
		return nil, nil, fmt.Errorf("uploads: subgraph request: %w", err)
	}
	raw, ok := msg["variables"]
	if !ok {
		return body, nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var vars any
	if err := dec.Decode(&vars); err != nil {
		return nil, nil, fmt.Errorf("uploads: subgraph variables: %w", err)
	}
	byFile := map[*file]*fetchFile{}
	var walk func(v any, path string) any
	walk = func(v any, path string) any {
		switch t := v.(type) {
		case string:
			if f := u.fileOf(t); f != nil {
				ff := byFile[f]
				if ff == nil {
					ff = &fetchFile{f: f}
					byFile[f] = ff
				}
				ff.paths = append(ff.paths, path)
				return nil
			}
		case map[string]any:
			for k, e := range t {
				t[k] = walk(e, path+"."+k)
			}
		case []any:
			for i, e := range t {
				t[i] = walk(e, path+"."+strconv.Itoa(i))
			}
		}
		return v
	}
	vars = walk(vars, "variables")
	files := make([]fetchFile, 0, len(byFile))
	for _, ff := range byFile {
		sort.Strings(ff.paths)
		files = append(files, *ff)
	}
	sort.Slice(files, func(i, j int) bool { return files[i].f.index < files[j].f.index })
	var err error
	if msg["variables"], err = marshal(vars); err != nil {
		return nil, nil, err
	}
	out, err := marshal(msg)
	return out, files, err
}

func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("uploads: %w", err)
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}

// write writes the subgraph's multipart body: operations, map, then each
// file as it is read.
func (u *Upload) write(mw *multipart.Writer, ops []byte, files []fetchFile) error {
	if err := mw.WriteField("operations", string(ops)); err != nil {
		return err
	}
	m := make(map[string][]string, len(files))
	for i, ff := range files {
		m[strconv.Itoa(i)] = ff.paths
	}
	mj, err := marshal(m)
	if err != nil {
		return err
	}
	if err := mw.WriteField("map", string(mj)); err != nil {
		return err
	}
	for i, ff := range files {
		if err := u.writeFile(mw, strconv.Itoa(i), ff.f); err != nil {
			return err
		}
	}
	return mw.Close()
}

func (u *Upload) writeFile(mw *multipart.Writer, name string, f *file) error {
	r, done, err := u.open(f)
	if err != nil {
		return err
	}
	defer done()
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="%s"; filename="%s"`, name, escapeQuotes(f.filename)))
	ct := f.contentType
	if ct == "" {
		ct = "application/octet-stream"
	}
	h.Set("Content-Type", ct)
	w, err := mw.CreatePart(h)
	if err != nil {
		return err
	}
	_, err = io.Copy(w, r)
	return err
}

var quoteEscaper = strings.NewReplacer("\\", "\\\\", `"`, "\\\"", "\r", "", "\n", "")

func escapeQuotes(s string) string { return quoteEscaper.Replace(s) }
