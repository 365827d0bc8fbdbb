package request

import (
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"unicode/utf8"

	"github.com/fedgate/gateway/limits"
)

// Codes used in the extensions.code of errors returned by Decode.
const (
	CodeBadRequest           = "BAD_REQUEST"            // 400
	CodeRequestTooLarge      = "REQUEST_TOO_LARGE"      // 413
	CodeUnsupportedMediaType = "UNSUPPORTED_MEDIA_TYPE" // 415
	CodeMethodNotAllowed     = "METHOD_NOT_ALLOWED"     // 405; the response should carry "Allow: GET, POST"
	CodeBatchingNotEnabled   = "BATCHING_NOT_ENABLED"   // 400
	CodeBatchLimitExceeded   = "BATCH_LIMIT_EXCEEDED"   // 400
	CodeRequestTimeout       = "REQUEST_TIMEOUT"        // 408: the body did not arrive within the read deadline
	CodeOverloaded           = "SERVICE_OVERLOADED"     // 503: the body read budget is spent
)

// Defaults applied by Decode when an Options field is zero or negative.
const (
	DefaultMaxBodyBytes = 2 << 20 // 2 MiB
	DefaultMaxBatch     = 10
)

// Request is one GraphQL request of an HTTP request.
type Request struct {
	// Query is the document text. It is empty only when Extensions holds a
	// persistedQuery object: the caller resolves automatic persisted queries.
	Query string
	// OperationName selects the operation to run; empty if none was given.
	OperationName string
	// Variables is the raw JSON object of variable values, nil if absent or
	// null.
	Variables []byte
	// Extensions is the raw JSON object of request extensions, nil if absent
	// or null.
	Extensions []byte
}

// Options configures Decode.
type Options struct {
	// MaxBodyBytes caps the body, and again the body after decompression,
	// and the length of a GET query string; <= 0 means DefaultMaxBodyBytes.
	// A cap can not be switched off.
	MaxBodyBytes int64
	// AllowBatch accepts a JSON array of requests in a POST body.
	AllowBatch bool
	// MaxBatch caps the requests in a batch; <= 0 means DefaultMaxBatch.
	MaxBatch int
	// Budget, when not nil, is the memory shared by the bodies being read
	// at once: a body takes from it every buffer byte before reading into
	// it, and a body that does not fit is refused at once (503
	// SERVICE_OVERLOADED) rather than waiting. Decode gives back what it
	// took before it returns.
	Budget *Budget
}

// DefaultOptions returns a 2 MiB body cap with batching disabled.
func DefaultOptions() Options {
	return Options{MaxBodyBytes: DefaultMaxBodyBytes, MaxBatch: DefaultMaxBatch}
}

// Decode reads the GraphQL requests of r. batched reports that the body was
// a JSON array, whose answer must be an array too, even of one element.
// Errors are *limits.Error; see the Code constants for codes and statuses.
//
// Decode does not look inside the query: the caller refuses mutations over
// GET (405) once it knows the operation type, and resolves persisted
// queries.
func Decode(r *http.Request, opt Options) (reqs []Request, batched bool, err error) {
	if opt.MaxBodyBytes <= 0 {
		opt.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if opt.MaxBatch <= 0 {
		opt.MaxBatch = DefaultMaxBatch
	}
	switch r.Method {
	case http.MethodGet:
		req, err := decodeGET(r, opt)
		if err != nil {
			return nil, false, err
		}
		return []Request{req}, false, nil
	case http.MethodPost:
		return decodePOST(r, opt)
	default:
		return nil, false, newError(CodeMethodNotAllowed, http.StatusMethodNotAllowed, "method %s is not allowed; use GET or POST", limits.Clip(r.Method, 16))
	}
}

// DecodeBody decodes data, a JSON request body already read (the
// operations part of a multipart request), as Decode decodes a POST body.
func DecodeBody(data []byte, opt Options) ([]Request, bool, error) {
	if opt.MaxBatch <= 0 {
		opt.MaxBatch = DefaultMaxBatch
	}
	return decodeJSON(data, opt)
}

func newError(code string, status int, format string, args ...any) *limits.Error {
	return &limits.Error{Code: code, Message: fmt.Sprintf(format, args...), Status: status}
}

func badRequest(format string, args ...any) *limits.Error {
	return newError(CodeBadRequest, http.StatusBadRequest, format, args...)
}

func tooLarge(limit int64) *limits.Error {
	return newError(CodeRequestTooLarge, http.StatusRequestEntityTooLarge, "the request is larger than %d bytes", limit)
}

// decodeGET reads the URL parameters of a GET request. Parameter names are
// case-sensitive, and a parameter given twice is an error.
func decodeGET(r *http.Request, opt Options) (Request, error) {
	var req Request
	raw := r.URL.RawQuery
	if int64(len(raw)) > opt.MaxBodyBytes {
		return req, tooLarge(opt.MaxBodyBytes)
	}
	params, err := url.ParseQuery(raw)
	if err != nil {
		return req, badRequest("malformed URL query string")
	}
	get := func(name string) (string, error) {
		v := params[name]
		switch {
		case len(v) > 1:
			return "", badRequest("parameter %q is given more than once", name)
		case len(v) == 0:
			return "", nil
		case !utf8.ValidString(v[0]):
			return "", badRequest("parameter %q is not valid UTF-8", name)
		}
		return v[0], nil
	}
	if req.Query, err = get("query"); err != nil {
		return req, err
	}
	if req.OperationName, err = get("operationName"); err != nil {
		return req, err
	}
	// Without escapes, a parameter is a substring of the request line:
	// the document cache and the hash memo keep the query for long, and
	// would keep the whole line (up to the header limit) with it.
	req.Query, req.OperationName = strings.Clone(req.Query), strings.Clone(req.OperationName)
	for _, p := range []struct {
		name string
		dst  *[]byte
	}{{"variables", &req.Variables}, {"extensions", &req.Extensions}} {
		v, err := get(p.name)
		if err != nil || v == "" {
			if err != nil {
				return req, err
			}
			continue
		}
		if *p.dst, err = objectParam(p.name, []byte(v)); err != nil {
			return req, err
		}
	}
	return req, requireQuery(&req)
}

// objectParam checks that data is one JSON object or null and returns the
// object, or nil for null.
func objectParam(name string, data []byte) ([]byte, error) {
	s := scanner{data: data}
	s.ws()
	start := s.pos
	k, err := s.value(0)
	if err != nil {
		return nil, err
	}
	end := s.pos
	s.ws()
	if s.pos != len(data) {
		return nil, s.fail("unexpected data after the JSON value")
	}
	switch k {
	case kindNull:
		return nil, nil
	case kindObject:
		return data[start:end], nil
	}
	return nil, badRequest("%q must be a JSON object or null", name)
}

// decodePOST checks the content type and encoding, reads the body and
// decodes it.
func decodePOST(r *http.Request, opt Options) ([]Request, bool, error) {
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return nil, false, newError(CodeUnsupportedMediaType, http.StatusUnsupportedMediaType, "a POST needs Content-Type: application/json")
	}
	mediaType, err := parseContentType(ct)
	if err != nil {
		return nil, false, err
	}
	if mediaType != "application/json" && mediaType != "application/graphql" {
		return nil, false, newError(CodeUnsupportedMediaType, http.StatusUnsupportedMediaType, "unsupported Content-Type %q; use application/json", limits.Clip(mediaType, 64))
	}
	body, err := readBody(r, opt)
	if err != nil {
		return nil, false, err
	}
	if mediaType == "application/graphql" {
		if !utf8.Valid(body) {
			return nil, false, badRequest("the request body is not valid UTF-8")
		}
		req := Request{Query: string(body)}
		if err := requireQuery(&req); err != nil {
			return nil, false, err
		}
		return []Request{req}, false, nil
	}
	return decodeJSON(body, opt)
}

// parseContentType returns the media type of the Content-Type ct,
// refusing a charset other than UTF-8. The plain "application/json"
// nearly every client sends is taken as it is: mime.ParseMediaType makes
// a map of its parameters even when there are none.
func parseContentType(ct string) (string, error) {
	if ct == "application/json" {
		return ct, nil
	}
	mediaType, params, err := mime.ParseMediaType(ct)
	if err != nil {
		return "", newError(CodeUnsupportedMediaType, http.StatusUnsupportedMediaType, "malformed Content-Type")
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") && !strings.EqualFold(cs, "utf8") {
		return "", newError(CodeUnsupportedMediaType, http.StatusUnsupportedMediaType, "only the utf-8 charset is supported")
	}
	return mediaType, nil
}

// readBody reads the body under the cap, decompressing gzip with the cap
// applied to the compressed and to the decompressed bytes.
func readBody(r *http.Request, opt Options) ([]byte, error) {
	limit := opt.MaxBodyBytes
	if r.ContentLength > limit {
		return nil, tooLarge(limit)
	}
	if r.Body == nil {
		return nil, nil
	}
	var body io.ReadCloser = http.MaxBytesReader(nil, r.Body, limit)
	defer body.Close()
	encoding := strings.ToLower(strings.TrimSpace(strings.Join(r.Header.Values("Content-Encoding"), ",")))
	gzipped := false
	switch encoding {
	case "", "identity":
	case "gzip", "x-gzip":
		zr, err := gzip.NewReader(body)
		if err != nil {
			return nil, readError(err, limit, true)
		}
		defer zr.Close()
		body = http.MaxBytesReader(nil, zr, limit)
		gzipped = true
	default:
		return nil, newError(CodeUnsupportedMediaType, http.StatusUnsupportedMediaType, "unsupported Content-Encoding %q; use gzip or none", limits.Clip(encoding, 32))
	}
	hint := r.ContentLength
	if gzipped {
		hint = 0 // the compressed length says little of the body's
	}
	return readLimited(body, limit, hint, opt.Budget, gzipped)
}

// firstChunk is the buffer a body is first read into; it doubles as bytes
// arrive, so memory grows with the bytes received, never with what the
// Content-Length header announces past firstChunkMax.
const firstChunk = 512

// firstChunkMax bounds the buffer sized by a Content-Length: once its
// first bytes have arrived, a body announced up to this long is read into
// one buffer of its length (plus the byte that shows its end) instead of
// 512, 1024, 2048 ... bytes and the copies between them. Before any byte
// arrives a body holds at most firstChunk of the budget, so connections
// that announce a length and send nothing cost what they did before.
const firstChunkMax = 16 << 10

// ReadAll reads r to its end as Decode reads a body: at most limit bytes
// (413 REQUEST_TOO_LARGE past it), each buffer byte taken from budget
// (when not nil) before it is read into (503 SERVICE_OVERLOADED when the
// budget is spent).
func ReadAll(r io.Reader, limit int64, budget *Budget) ([]byte, error) {
	b, err := readLimited(io.LimitReader(r, limit+1), limit, 0, budget, false)
	if err == nil && int64(len(b)) > limit {
		return nil, tooLarge(limit)
	}
	return b, err
}

// readLimited reads body to its end, taking every buffer byte from budget
// (when not nil) before reading into it. The budget is given back before
// it returns: it bounds the bodies being read, not the requests served.
// hint, when positive, is the body's announced length: the first buffer
// holds at most firstChunk bytes (or the hint and one byte more, when
// smaller); once bytes have arrived the buffer grows to the hint and one
// byte more, up to firstChunkMax, then doubles.
func readLimited(body io.Reader, limit, hint int64, budget *Budget, gzipped bool) ([]byte, error) {
	var buf []byte
	var taken int64
	defer func() { budget.Give(taken) }()
	target := int64(firstChunk) // the capacity the next growth reaches at least
	if hint > 0 {
		target = min(hint+1, firstChunk)
	}
	for {
		if len(buf) == cap(buf) {
			grow := max(int64(cap(buf)), firstChunk) // doubling
			if target > int64(cap(buf)) {
				grow = target - int64(cap(buf))
			}
			if n := limit + 1 - int64(cap(buf)); grow > n {
				grow = max(n, 1) // the byte past the limit tells MaxBytesReader to refuse
			}
			if !budget.Take(grow) {
				return nil, newError(CodeOverloaded, http.StatusServiceUnavailable, "too many request bodies are being read; retry later")
			}
			taken += grow
			nb := make([]byte, len(buf), int64(cap(buf))+grow)
			copy(nb, buf)
			buf = nb
		}
		n, err := body.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if n > 0 && hint > 0 {
			target = min(hint+1, firstChunkMax) // the body is arriving: size it as announced
		}
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return nil, readError(err, limit, gzipped)
		}
	}
}

// ReadError is the error of a failed read of a body capped at limit
// (413 past it, 408 when it did not arrive in time, else 400).
func ReadError(err error, limit int64) error { return readError(err, limit, false) }

func readError(err error, limit int64, gzipped bool) error {
	var tooBig *http.MaxBytesError
	var netErr net.Error
	switch {
	case errors.As(err, &tooBig):
		return tooLarge(limit)
	case errors.As(err, &netErr) && netErr.Timeout() || errors.Is(err, os.ErrDeadlineExceeded):
		return newError(CodeRequestTimeout, http.StatusRequestTimeout, "the request body did not arrive in time")
	case gzipped:
		return badRequest("the request body is not valid gzip")
	}
	return badRequest("could not read the request body")
}

// requireQuery reports a request without a query, unless its extensions
// name a persisted query.
func requireQuery(req *Request) error {
	if req.Query != "" || hasPersistedQuery(req.Extensions) {
		return nil
	}
	return badRequest("missing query: there is no GraphQL operation to execute; send one in the `query` URL parameter of a GET or in the JSON body of a POST")
}

// hasPersistedQuery reports whether ext, a valid JSON object, has a
// persistedQuery object.
func hasPersistedQuery(ext []byte) bool {
	if ext == nil {
		return false
	}
	found := false
	s := scanner{data: ext}
	_ = s.object(0, func(key []byte, k kind, _, _ int) error {
		if k == kindObject && string(key) == "persistedQuery" {
			found = true
		}
		return nil
	})
	return found
}

// decodeJSON decodes an application/json body: one request object, or an
// array of them.
func decodeJSON(data []byte, opt Options) ([]Request, bool, error) {
	s := scanner{data: data}
	s.ws()
	if s.pos == len(data) {
		return nil, false, badRequest("the request body is empty")
	}
	var reqs []Request
	batched := false
	switch data[s.pos] {
	case '{':
		req, err := s.request(0)
		if err != nil {
			return nil, false, err
		}
		reqs = []Request{req}
	case '[':
		if !opt.AllowBatch {
			return nil, false, newError(CodeBatchingNotEnabled, http.StatusBadRequest, "batched requests are not enabled")
		}
		batched = true
		var err error
		if reqs, err = s.batch(opt.MaxBatch); err != nil {
			return nil, false, err
		}
	default:
		return nil, false, badRequest("the request body must be a JSON object")
	}
	s.ws()
	if s.pos != len(data) {
		return nil, false, s.fail("unexpected data after the JSON value")
	}
	return reqs, batched, nil
}

// batch decodes an array of request objects, failing as soon as it holds
// more than maxBatch.
func (s *scanner) batch(maxBatch int) ([]Request, error) {
	s.pos++ // [
	var reqs []Request
	s.ws()
	if s.pos < len(s.data) && s.data[s.pos] == ']' {
		return nil, badRequest("the batch is empty")
	}
	for {
		if len(reqs) == maxBatch {
			return nil, newError(CodeBatchLimitExceeded, http.StatusBadRequest, "a batch may hold at most %d requests", maxBatch)
		}
		s.ws()
		if s.pos >= len(s.data) || s.data[s.pos] != '{' {
			if s.pos >= len(s.data) {
				return nil, s.fail("unexpected end of input")
			}
			return nil, badRequest("every request of a batch must be a JSON object")
		}
		req, err := s.request(1)
		if err != nil {
			return nil, err
		}
		reqs = append(reqs, req)
		s.ws()
		if s.pos >= len(s.data) {
			return nil, s.fail("unexpected end of input")
		}
		switch s.data[s.pos] {
		case ',':
			s.pos++
		case ']':
			s.pos++
			return reqs, nil
		default:
			return nil, s.fail("expected , or ]")
		}
	}
}

// request decodes one request object at s.pos. Only the exact keys query,
// operationName, variables and extensions are read; others are checked as
// JSON and ignored.
func (s *scanner) request(depth int) (Request, error) {
	var req Request
	err := s.object(depth, func(key []byte, k kind, start, end int) error {
		raw := s.data[start:end]
		switch string(key) {
		case "query":
			switch k {
			case kindString:
				req.Query = unquote(raw)
			case kindNull:
			default:
				return badRequest(`"query" must be a string`)
			}
		case "operationName":
			switch k {
			case kindString:
				req.OperationName = unquote(raw)
			case kindNull:
			default:
				return badRequest(`"operationName" must be a string or null`)
			}
		case "variables", "extensions":
			dst := &req.Variables
			if key[0] == 'e' {
				dst = &req.Extensions
			}
			switch k {
			case kindObject:
				*dst = raw
			case kindNull:
			default:
				return badRequest("%q must be a JSON object or null", key)
			}
		}
		return nil
	})
	if err != nil {
		return req, err
	}
	return req, requireQuery(&req)
}
