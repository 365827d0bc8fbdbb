package cache

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/fedgate/gateway/internal/reqerr"
)

// Codes of persisted query errors, as Apollo's servers and router name
// them.
const (
	CodePersistedQueryNotFound     = "PERSISTED_QUERY_NOT_FOUND"     // 200: send the query with its hash
	CodePersistedQueryNotSupported = "PERSISTED_QUERY_NOT_SUPPORTED" // 400
	CodePersistedQueryHashMismatch = "PERSISTED_QUERY_HASH_MISMATCH" // 400
	CodePersistedQueryNotInList    = "PERSISTED_QUERY_NOT_IN_LIST"   // 400: trusted documents refuse it
	CodePersistedQueryIDRequired   = "PERSISTED_QUERY_ID_REQUIRED"   // 400: only ids are accepted
	CodeBadRequest                 = "BAD_REQUEST"                   // 400
)

// Error is a request error with its GraphQL extensions.code and HTTP
// status; the server reports it as it reports other request errors.
type Error = reqerr.Error

// Manifest is an Apollo persisted query manifest.
type Manifest struct {
	Format     string              `json:"format"`
	Version    int                 `json:"version"`
	Operations []ManifestOperation `json:"operations"`
}

// ManifestOperation is one trusted operation.
type ManifestOperation struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Type string `json:"type"`
	Body string `json:"body"`
}

// LoadManifest reads an Apollo persisted query manifest file.
func LoadManifest(path string) (*Manifest, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("trusted documents: %w", err)
	}
	return ParseManifest(b)
}

// ParseManifest decodes and checks a manifest.
func ParseManifest(b []byte) (*Manifest, error) {
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("trusted documents manifest: %w", err)
	}
	if m.Format != "apollo-persisted-query-manifest" || m.Version != 1 {
		return nil, fmt.Errorf("trusted documents manifest: format %q version %d, want apollo-persisted-query-manifest version 1", m.Format, m.Version)
	}
	seen := map[string]bool{}
	for i, op := range m.Operations {
		if op.ID == "" || op.Body == "" {
			return nil, fmt.Errorf("trusted documents manifest: operations[%d]: id and body are required", i)
		}
		if seen[op.ID] {
			return nil, fmt.Errorf("trusted documents manifest: operations[%d]: id %q appears twice", i, op.ID)
		}
		seen[op.ID] = true
	}
	return &m, nil
}

// PersistedQueries resolves Apollo's automatic persisted queries (stored
// in process and in Redis) and trusted documents (a manifest of allowed
// operations).
type PersistedQueries struct {
	apq    bool
	ttl    int64 // seconds
	maxDoc int64
	// maxRedis bounds the bytes registered in Redis per TTL window
	// (storeRedis); 0 is no bound.
	maxRedis int64
	l1       *lazyL1[string]
	redis    *Redis
	stats    *Stats

	mode   string
	byID   map[string]string
	bodies map[[32]byte]bool
}

// NewPersistedQueries returns the resolver for cfg and trusted documents
// td, whose manifest m may be nil when td.Mode is off. r may be nil.
func NewPersistedQueries(cfg APQConfig, td TrustedDocumentsConfig, m *Manifest, r *Redis, stats *Stats) (*PersistedQueries, error) {
	p := &PersistedQueries{apq: cfg.Enabled, ttl: int64(cfg.TTL.Seconds()), maxDoc: cfg.MaxDocumentBytes, maxRedis: cfg.MaxRedisBytes, redis: r, stats: stats, mode: td.Mode}
	if p.mode == "" {
		p.mode = TrustedOff
	}
	if cfg.Enabled {
		maxBytes := cfg.MaxBytes
		if maxBytes <= 0 {
			maxBytes = 16 << 20
		}
		p.l1 = newLazyL1[string](maxBytes)
	}
	if p.mode != TrustedOff {
		if m == nil {
			return nil, fmt.Errorf("trusted documents: mode %s needs a manifest", p.mode)
		}
		p.byID = map[string]string{}
		p.bodies = map[[32]byte]bool{}
		for _, op := range m.Operations {
			p.byID[op.ID] = op.Body
			p.bodies[sha256.Sum256([]byte(op.Body))] = true
		}
	}
	return p, nil
}

// Close stops the in-process store.
func (p *PersistedQueries) Close() {
	if p.l1 != nil {
		p.l1.Close()
	}
}

// Wait applies buffered in-process stores; tests call it.
func (p *PersistedQueries) Wait() {
	if p.l1 != nil {
		p.l1.Wait()
	}
}

type persistedExtension struct {
	PersistedQuery *struct {
		Version    int    `json:"version"`
		SHA256Hash string `json:"sha256Hash"`
	} `json:"persistedQuery"`
}

// Resolved is the outcome of Resolve.
type Resolved struct {
	// Query is the document text the request runs.
	Query string
	// Register is the hash under which Query is to be registered once it
	// has parsed, validated and been admitted (Register), "" when there
	// is nothing to register.
	Register string
}

// Resolve returns the query text a request runs: query itself, or the
// document its extensions.persistedQuery names, and applies the trusted
// documents mode. It stores nothing: a query sent with its hash is only
// registered by Register, once the pipeline has accepted it. Errors are
// *Error.
func (p *PersistedQueries) Resolve(ctx context.Context, query string, extensions []byte) (Resolved, error) {
	q, register, err := p.resolve(ctx, query, extensions)
	return Resolved{Query: q, Register: register}, err
}

// Register stores query under hash (from Resolved.Register) unless it is
// larger than cache.apq.max_document_bytes.
func (p *PersistedQueries) Register(ctx context.Context, r Resolved) {
	if r.Register == "" || !p.apq || p.maxDoc > 0 && int64(len(r.Query)) > p.maxDoc {
		return
	}
	p.store(ctx, r.Register, r.Query)
}

func (p *PersistedQueries) resolve(ctx context.Context, query string, extensions []byte) (string, string, error) {
	var ext persistedExtension
	if len(extensions) > 0 {
		if err := json.Unmarshal(extensions, &ext); err != nil {
			return "", "", &Error{Code: CodeBadRequest, Message: "extensions must be a JSON object", Status: http.StatusBadRequest}
		}
	}
	pq := ext.PersistedQuery
	if pq == nil {
		return query, "", p.allowText(query)
	}
	if !p.apq && p.mode == TrustedOff {
		return "", "", &Error{Code: CodePersistedQueryNotSupported, Message: "PersistedQueryNotSupported", Status: http.StatusBadRequest}
	}
	if pq.Version != 1 {
		return "", "", &Error{Code: CodeBadRequest, Message: "unsupported persistedQuery version; want 1", Status: http.StatusBadRequest}
	}
	hash := strings.ToLower(pq.SHA256Hash)
	if hash == "" {
		return "", "", &Error{Code: CodeBadRequest, Message: "persistedQuery.sha256Hash is required", Status: http.StatusBadRequest}
	}
	if query != "" {
		sum := sha256.Sum256([]byte(query))
		if hex.EncodeToString(sum[:]) != hash {
			return "", "", &Error{Code: CodePersistedQueryHashMismatch, Message: "provided sha does not match query", Status: http.StatusBadRequest}
		}
		if err := p.allowText(query); err != nil {
			return "", "", err
		}
		if p.apq {
			return query, hash, nil
		}
		return query, "", nil
	}
	if body, ok := p.byID[pq.SHA256Hash]; ok {
		p.stats.APQHits.Add(1)
		return body, "", nil
	}
	if p.apq && p.mode != TrustedSafelist && p.mode != TrustedIDsOnly {
		if !isSHA256Hex(hash) {
			// Not a hash any document has: nothing to look up. Before, the
			// string (up to the body's 2 MiB) was a Redis key asked for.
			p.stats.APQMisses.Add(1)
			return "", "", errMalformedHash
		}
		if body, ok := p.lookup(ctx, hash); ok {
			p.stats.APQHits.Add(1)
			return body, "", nil
		}
	}
	p.stats.APQMisses.Add(1)
	if p.mode == TrustedIDsOnly || p.mode == TrustedSafelist && !p.apq {
		return "", "", &Error{Code: CodePersistedQueryNotInList, Message: "the operation is not in the trusted documents", Status: http.StatusBadRequest}
	}
	return "", "", &Error{Code: CodePersistedQueryNotFound, Message: "PersistedQueryNotFound", Status: http.StatusOK}
}

// errMalformedHash refuses a persisted query whose hash is not the hex
// SHA-256 of any document.
var errMalformedHash = &Error{Code: CodeBadRequest, Message: "persistedQuery.sha256Hash must be 64 hexadecimal digits", Status: http.StatusBadRequest}

// isSHA256Hex reports whether h is 64 lower-case hexadecimal digits.
func isSHA256Hex(h string) bool {
	if len(h) != 2*sha256.Size {
		return false
	}
	for i := range len(h) {
		if c := h[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// allowText applies the trusted documents mode to a query sent as text.
func (p *PersistedQueries) allowText(query string) error {
	switch p.mode {
	case TrustedIDsOnly:
		return &Error{Code: CodePersistedQueryIDRequired, Message: "send the id of a trusted document, not a query", Status: http.StatusBadRequest}
	case TrustedSafelist:
		if !p.bodies[sha256.Sum256([]byte(query))] {
			return &Error{Code: CodePersistedQueryNotInList, Message: "the operation is not in the trusted documents", Status: http.StatusBadRequest}
		}
	}
	return nil
}

func apqKey(hash string) string { return KeyPrefix + "apq:" + hash }

func (p *PersistedQueries) store(ctx context.Context, hash, query string) {
	if _, ok := p.l1.Get(hash); ok {
		return
	}
	p.l1.Set(hash, query, int64(len(query))+64, 0)
	if p.redis != nil && p.redisRoom(ctx, int64(len(query))) {
		p.redis.set(ctx, []string{apqKey(hash)}, [][]byte{[]byte(query)}, []time.Duration{time.Duration(p.ttl) * time.Second})
	}
	p.stats.APQStores.Add(1)
}

// redisRoom counts n bytes against the registrations of the current TTL
// window in Redis (a counter shared by every gateway using it, kept two
// windows) and reports whether they fit in maxRedis: the documents in
// Redis are then at most twice maxRedis, those of this window and of the
// one before, whose keys expire within a TTL. Registration is bounded per
// client by its rate limit only, which is off by default: any client
// could fill Redis with documents of max_document_bytes kept a TTL long.
// The count is not atomic with the store (a Redis Cluster puts the
// counter and the document in different slots): gateways registering at
// once may pass the bound by a document each.
func (p *PersistedQueries) redisRoom(ctx context.Context, n int64) bool {
	if p.maxRedis <= 0 || p.ttl <= 0 {
		return true
	}
	window := time.Now().Unix() / p.ttl
	total, ok := p.redis.incrWithExpiry(ctx, KeyPrefix+"apq-bytes:"+strconv.FormatInt(window, 10), n, 2*time.Duration(p.ttl)*time.Second)
	return ok && total <= p.maxRedis
}

func (p *PersistedQueries) lookup(ctx context.Context, hash string) (string, bool) {
	if q, ok := p.l1.Get(hash); ok {
		return q, true
	}
	if p.redis == nil {
		return "", false
	}
	v := p.redis.mget(ctx, apqKey(hash))[0]
	if v == nil {
		return "", false
	}
	// A value from Redis is checked like a registration: a damaged or
	// forged entry must not run as another query.
	sum := sha256.Sum256(v)
	if hex.EncodeToString(sum[:]) != hash {
		return "", false
	}
	q := string(v)
	p.l1.Set(hash, q, int64(len(q))+64, 0)
	return q, true
}
