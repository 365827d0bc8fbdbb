package telemetry

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"time"
)

// RequestInfo gathers what the request log line reports about one client
// request. The server puts it in the request context; later stages fill
// it in (the subgraph client adds its fetches, auth may set the client).
// Its methods are safe for concurrent use and do nothing on nil.
type RequestInfo struct {
	// ID is the request id (X-Request-ID), forwarded to subgraphs.
	ID string
	// IDHeader is ID as a header value, made once for every subgraph
	// request; read-only.
	IDHeader []string

	mu            sync.Mutex
	clientID      string
	limitsClient  string
	operationName string
	operationHash [32]byte
	hashed        bool
	fetches       []FetchTiming
	fetchBuf      [8]FetchTiming
	labels        []Label
}

// SetLabels records the labels the hooks give the request's metrics.
func (r *RequestInfo) SetLabels(l []Label) {
	if r == nil {
		return
	}
	r.mu.Lock()
	r.labels = l
	r.mu.Unlock()
}

// Labels returns the labels SetLabels recorded (read only).
func (r *RequestInfo) Labels() []Label {
	if r == nil {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.labels
}

// FetchTiming is one subgraph fetch of a request.
type FetchTiming struct {
	Subgraph string
	Duration time.Duration
	// Code is "" on success, else the error code.
	Code     string
	Attempts int
	// Failure, for a failed fetch, says which and why; nil otherwise (a
	// pointer, so that the fetches a request keeps stay small).
	Failure *FetchFailure
}

// FetchFailure is what the request's log line says of a failed fetch:
// the plan's fetch (its id and Flatten path, nil for a root fetch) and
// the cause (executor.FetchError.Cause).
type FetchFailure struct {
	FetchID int
	Path    []string
	Error   string
}

// NewRequestInfo returns the RequestInfo of the request with this id.
func NewRequestInfo(id string) *RequestInfo { return &RequestInfo{ID: id, IDHeader: []string{id}} }

// RequestIDHeader is the canonical form of X-Request-ID, for setting the
// header without canonicalizing it on every request.
const RequestIDHeader = "X-Request-Id"

type requestInfoKey struct{}

// WithRequestInfo returns ctx carrying ri.
func WithRequestInfo(ctx context.Context, ri *RequestInfo) context.Context {
	return context.WithValue(ctx, requestInfoKey{}, ri)
}

// RequestInfoFrom returns the RequestInfo in ctx, or nil.
func RequestInfoFrom(ctx context.Context) *RequestInfo {
	ri, _ := ctx.Value(requestInfoKey{}).(*RequestInfo)
	return ri
}

// SetClient records the client's identity (a client name or token subject).
func (r *RequestInfo) SetClient(id string) {
	if r == nil {
		return
	}
	r.mu.Lock()
	r.clientID = id
	r.mu.Unlock()
}

// SetLimitsClient records the client the per-client limits count the
// request against (server.Server.ClientOf).
func (r *RequestInfo) SetLimitsClient(id string) {
	if r == nil {
		return
	}
	r.mu.Lock()
	r.limitsClient = id
	r.mu.Unlock()
}

// LimitsClient returns what SetLimitsClient recorded, "" when nothing.
func (r *RequestInfo) LimitsClient() string {
	if r == nil {
		return ""
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.limitsClient
}

// SetOperation records the operation name and the SHA-256 of the document.
func (r *RequestInfo) SetOperation(name string, hash [32]byte) {
	if r == nil {
		return
	}
	r.mu.Lock()
	r.operationName, r.operationHash, r.hashed = name, hash, true
	r.mu.Unlock()
}

// Operation returns the operation name recorded.
func (r *RequestInfo) Operation() string {
	if r == nil {
		return ""
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.operationName
}

// AddFetch records a subgraph fetch.
func (r *RequestInfo) AddFetch(f FetchTiming) {
	if r == nil {
		return
	}
	r.mu.Lock()
	if r.fetches == nil {
		r.fetches = r.fetchBuf[:0]
	}
	r.fetches = append(r.fetches, f)
	r.mu.Unlock()
}

// Fetches returns a copy of the fetches recorded so far.
func (r *RequestInfo) Fetches() []FetchTiming {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]FetchTiming(nil), r.fetches...)
}

// LogAttrs are the attributes of the request's log line besides status
// and latency.
func (r *RequestInfo) LogAttrs() []slog.Attr {
	r.mu.Lock()
	defer r.mu.Unlock()
	attrs := make([]slog.Attr, 0, 6)
	attrs = append(attrs, slog.String("request_id", r.ID))
	if r.clientID != "" {
		attrs = append(attrs, slog.String("client_id", r.clientID))
	}
	if r.operationName != "" {
		attrs = append(attrs, slog.String("operation_name", r.operationName))
	}
	if r.hashed {
		attrs = append(attrs, slog.String("operation_hash", hex.EncodeToString(r.operationHash[:])))
	}
	if len(r.fetches) > 0 {
		attrs = append(attrs, slog.Any("subgraphs", fetchList(r.fetches)))
	}
	return attrs
}

// fetchList renders as a JSON array of {name, ms, code, attempts}, and
// for a failed fetch its fetch id, path and error.
type fetchList []FetchTiming

// MarshalJSON writes the list without reflection: it is on the path of
// every request's log line.
func (l fetchList) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, 64*len(l)+2)
	b = append(b, '[')
	for i, f := range l {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"name":`...)
		b = appendJSONString(b, f.Subgraph)
		b = append(b, `,"ms":`...)
		b = strconv.AppendFloat(b, float64(f.Duration.Microseconds())/1000, 'f', -1, 64)
		if f.Code != "" {
			b = append(b, `,"code":`...)
			b = appendJSONString(b, f.Code)
		}
		b = append(b, `,"attempts":`...)
		b = strconv.AppendInt(b, int64(f.Attempts), 10)
		if ff := f.Failure; ff != nil {
			b = append(b, `,"fetch":`...)
			b = strconv.AppendInt(b, int64(ff.FetchID), 10)
			if ff.Path != nil {
				b = append(b, `,"path":`...)
				b = appendJSONString(b, strings.Join(ff.Path, "."))
			}
			b = append(b, `,"error":`...)
			b = appendJSONString(b, ff.Error)
		}
		b = append(b, '}')
	}
	return append(b, ']'), nil
}

// appendJSONString appends s as a JSON string.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c >= 0x80 {
			q, _ := json.Marshal(s)
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// NewRequestID returns a random 128-bit id in hex. It comes from the
// runtime's ChaCha8 generator: unpredictable enough for an id, and
// without a system call per request.
func NewRequestID() string {
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:8], rand.Uint64())
	binary.LittleEndian.PutUint64(b[8:], rand.Uint64())
	return hex.EncodeToString(b[:])
}

// ValidRequestID says whether a client-supplied X-Request-ID may be used
// and forwarded: 1 to 128 characters of [A-Za-z0-9._:-].
func ValidRequestID(id string) bool {
	if len(id) == 0 || len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c == ':') {
			return false
		}
	}
	return true
}
