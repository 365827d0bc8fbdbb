package uploads

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/fedgate/gateway/internal/reqerr"
)

// maxMapBytes caps the map part: a few hundred paths fit.
const maxMapBytes = 64 << 10

// maxPathsPerFile caps the paths of one file in the map.
const maxPathsPerFile = 16

// Upload is one multipart request being served: its map, and its files
// still in the client's body. Its methods are safe for the concurrent
// fetches of one request. Close it when the request is answered.
type Upload struct {
	cfg   Config
	nonce string
	// files are in the order of the map, byName by their map key.
	files  []*file
	byName map[string]*file
	// Operations is the operations part, a JSON object (one request).
	Operations []byte

	// body is the client's body: held while a part is read from it.
	body sync.Mutex
	mr   *multipart.Reader
	// total counts the file bytes read (under body).
	total int64
	// spool is the process's spool budget (nil: none), client who the
	// request's spool counts against in it.
	spool  *SpoolBudget
	client string

	mu  sync.Mutex
	err error // the first failure (Err)
}

// file is one entry of the map.
type file struct {
	index int
	name  string
	paths []string
	// refs counts the fetches that will still send it (Expect).
	refs atomic.Int32

	// Set under Upload.body once its part was reached.
	read        bool
	filename    string
	contentType string
	// spool holds it when it was spooled complete; size is its length.
	spool *spoolFile
}

// ParseOptions are the caller's bounds of the operations part.
type ParseOptions struct {
	// MaxOperations caps the operations part.
	MaxOperations int64
	// ReadOperations, when set, reads the operations part (at most
	// limit bytes), say under the memory budget of the bodies being
	// read; its errors are returned as they are.
	ReadOperations func(r io.Reader, limit int64) ([]byte, error)
	// Spool is the spool budget shared by the process's uploads
	// (NewSpoolBudget of Config.MaxSpoolBytes); nil is none.
	Spool *SpoolBudget
	// Client is who the request's spool counts against in Spool (the
	// client the rate limits count).
	Client string
}

// Parse reads the operations and map parts of a multipart request whose
// body is body and boundary boundary, the first two parts in that order
// (spec). The files are left in body for the fetches that send them.
func Parse(body io.Reader, boundary string, cfg Config, opts ParseOptions) (*Upload, error) {
	u := &Upload{cfg: cfg, byName: map[string]*file{}, mr: multipart.NewReader(body, boundary), spool: opts.Spool,
		client: opts.Client}
	var nonce [16]byte
	_, _ = rand.Read(nonce[:])
	u.nonce = hex.EncodeToString(nonce[:])
	ops, err := u.field("operations", opts.MaxOperations, opts.ReadOperations)
	if err != nil {
		return nil, err
	}
	if t := bytes.TrimLeft(ops, " \t\r\n"); len(t) > 0 && t[0] == '[' {
		return nil, &reqerr.Error{Code: CodeBatch, Status: http.StatusBadRequest,
			Message: "batched operations (an array) can not carry file uploads; send one operation per request"}
	}
	u.Operations = ops
	m, err := u.field("map", maxMapBytes, nil)
	if err != nil {
		return nil, err
	}
	if err := u.parseMap(m); err != nil {
		return nil, err
	}
	return u, nil
}

// field reads the next part, which must be the form field name, up to
// limit bytes (with read when it is set).
func (u *Upload) field(name string, limit int64, read func(io.Reader, int64) ([]byte, error)) ([]byte, error) {
	p, err := u.mr.NextPart()
	if err == io.EOF {
		return nil, malformed("the multipart request has no %q part (GraphQL multipart request spec)", name)
	}
	if err != nil {
		return nil, readError(err)
	}
	if p.FormName() != name {
		return nil, malformed("the multipart request must send %q here, before any file; got %q", name, clip(p.FormName(), 64))
	}
	if read != nil {
		return read(p, limit)
	}
	b, err := io.ReadAll(io.LimitReader(p, limit+1))
	if err != nil {
		return nil, readError(err)
	}
	if int64(len(b)) > limit {
		return nil, tooLarge(CodeTooLarge, "the %q part is larger than %d bytes", name, limit)
	}
	return b, nil
}

// parseMap reads the map object {"key": ["path", ...], ...} in order,
// stopping at the first entry over MaxFiles.
func (u *Upload) parseMap(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return malformed("the map part must be a JSON object")
	}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return malformed("the map part is not valid JSON")
		}
		name := t.(string)
		if len(u.files) == u.cfg.MaxFiles {
			return tooLarge(CodeTooManyFiles, "the request has more than %d files", u.cfg.MaxFiles)
		}
		if _, dup := u.byName[name]; dup {
			return malformed("the map names file %q twice", clip(name, 64))
		}
		var paths []string
		if err := dec.Decode(&paths); err != nil {
			return malformed("the map entry of file %q must be an array of strings", clip(name, 64))
		}
		if len(paths) == 0 || len(paths) > maxPathsPerFile {
			return badMap("the map entry of file %q must have 1 to %d paths", clip(name, 64), maxPathsPerFile)
		}
		f := &file{index: len(u.files), name: name, paths: paths}
		u.files = append(u.files, f)
		u.byName[name] = f
	}
	if _, err := dec.Token(); err != nil {
		return malformed("the map part is not valid JSON")
	}
	if dec.More() || dec.InputOffset() != int64(len(bytes.TrimRight(data, " \t\r\n"))) {
		return malformed("unexpected data after the map object")
	}
	return nil
}

// placeholderPrefix starts every placeholder; the nonce and the file's
// index follow.
const placeholderPrefix = "fedgate.upload."

func (u *Upload) placeholder(f *file) string {
	return placeholderPrefix + u.nonce + "." + strconv.Itoa(f.index)
}

// fileOf returns the file a placeholder string stands for, nil if s is
// not one of this request's placeholders.
func (u *Upload) fileOf(s string) *file {
	rest, ok := strings.CutPrefix(s, placeholderPrefix)
	if !ok {
		return nil
	}
	rest, ok = strings.CutPrefix(rest, u.nonce+".")
	if !ok {
		return nil
	}
	i, err := strconv.Atoi(rest)
	if err != nil || i < 0 || i >= len(u.files) {
		return nil
	}
	return u.files[i]
}

// Bind checks every map path against vars, the request's variables
// object (raw JSON, nil when absent), and returns the variables with a
// placeholder at each path. A path is "variables." followed by object
// keys and list indexes, and must lead to a null (the spec's
// placeholder for a file).
func (u *Upload) Bind(vars []byte) ([]byte, error) {
	var root any = map[string]any{}
	if len(vars) > 0 {
		dec := json.NewDecoder(bytes.NewReader(vars))
		dec.UseNumber()
		if err := dec.Decode(&root); err != nil {
			return nil, badMap("variables must be a JSON object")
		}
	}
	obj, ok := root.(map[string]any)
	if !ok {
		return nil, badMap("variables must be a JSON object")
	}
	for _, f := range u.files {
		for _, path := range f.paths {
			if err := u.set(obj, path, f); err != nil {
				return nil, err
			}
		}
	}
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(obj); err != nil {
		return nil, badMap("variables: %v", err)
	}
	return bytes.TrimRight(out.Bytes(), "\n"), nil
}

// set puts f's placeholder at path in vars.
func (u *Upload) set(vars map[string]any, path string, f *file) error {
	segs, err := splitPath(path)
	if err != nil {
		return err
	}
	var parent any = vars
	for i, seg := range segs {
		last := i == len(segs)-1
		switch p := parent.(type) {
		case map[string]any:
			v, ok := p[seg]
			if !ok {
				return badMap("map path %q of file %q is not in the variables", clip(path, 128), clip(f.name, 64))
			}
			if last {
				if v != nil {
					return badMap("map path %q of file %q must be null in the variables", clip(path, 128), clip(f.name, 64))
				}
				p[seg] = u.placeholder(f)
				return nil
			}
			parent = v
		case []any:
			n, err := strconv.Atoi(seg)
			if err != nil || n < 0 || n >= len(p) {
				return badMap("map path %q of file %q is not in the variables", clip(path, 128), clip(f.name, 64))
			}
			if last {
				if p[n] != nil {
					return badMap("map path %q of file %q must be null in the variables", clip(path, 128), clip(f.name, 64))
				}
				p[n] = u.placeholder(f)
				return nil
			}
			parent = p[n]
		default:
			return badMap("map path %q of file %q is not in the variables", clip(path, 128), clip(f.name, 64))
		}
	}
	return nil
}

// splitPath returns the segments of a map path after "variables.".
func splitPath(path string) ([]string, error) {
	rest, ok := strings.CutPrefix(path, "variables.")
	if !ok || rest == "" {
		return nil, badMap("map path %q must start with \"variables.\"", clip(path, 128))
	}
	segs := strings.Split(rest, ".")
	if len(segs) > 32 {
		return nil, badMap("map path %q is too deep", clip(path, 128))
	}
	return segs, nil
}

// Err is the first failure of reading the files (a limit, a stalled or
// malformed body), nil when there was none. When it is set the request
// must be answered with it, whatever the fetches answered.
func (u *Upload) Err() error {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.err
}

// fail records err as the upload's failure unless one is recorded, and
// returns the recorded one.
func (u *Upload) fail(err error) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.err == nil {
		u.err = err
	}
	return u.err
}

// Close releases the spooled files and their bytes of the spool budget.
func (u *Upload) Close() error {
	var errs []error
	for _, f := range u.files {
		if f.spool != nil {
			errs = append(errs, f.spool.Close())
		}
	}
	return errors.Join(errs...)
}
