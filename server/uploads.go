package server

import (
	"context"
	"io"
	"mime"
	"net/http"
	"time"

	"github.com/fedgate/gateway/internal/reqerr"
	"github.com/fedgate/gateway/planner"
	"github.com/fedgate/gateway/server/request"
	"github.com/fedgate/gateway/uploads"
	"github.com/vektah/gqlparser/v2/ast"
)

// isUpload reports a POST of multipart/form-data, which Options.Uploads
// serves when it is enabled (request.Decode refuses it with 415 otherwise).
func (s *Server) isUpload(r *http.Request) (string, bool) {
	if !s.opts.Uploads.Enabled || r.Method != http.MethodPost {
		return "", false
	}
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" || params["boundary"] == "" {
		return "", false
	}
	return params["boundary"], true
}

// decodeUpload reads the operations and map parts of a multipart request
// (uploads.Parse). The files stay in the body: its read deadline is not
// lifted, but moved while the body is read (uploadBody), up to
// Options.Uploads.Timeout. Its spool counts against client (the one the
// rate limits count; "" when not known yet) in the spool budget. The
// caller closes the upload.
func (s *Server) decodeUpload(w http.ResponseWriter, r *http.Request, boundary, client string) (*uploads.Upload, request.Request, error) {
	cfg := s.opts.Uploads
	if client == "" && s.spool != nil {
		client = s.ClientOf(r)
	}
	maxOps := s.opts.MaxBodyBytes
	if maxOps <= 0 {
		maxOps = request.DefaultMaxBodyBytes
	}
	// Two JSON parts, the files and per-part headers: the body's cap.
	limit := 2*maxOps + cfg.MaxTotalBytes + int64(cfg.MaxFiles+2)*4096
	if r.ContentLength > limit {
		return nil, request.Request{}, &reqerr.Error{Code: uploads.CodeTooLarge, Status: http.StatusRequestEntityTooLarge,
			Message: "the request is larger than the upload limits allow"}
	}
	if enc := r.Header.Get("Content-Encoding"); enc != "" && enc != "identity" {
		return nil, request.Request{}, &reqerr.Error{Code: request.CodeUnsupportedMediaType, Status: http.StatusUnsupportedMediaType,
			Message: "a multipart request can not be compressed"}
	}
	idle := cfg.IdleTimeout
	if idle <= 0 {
		idle = s.opts.HTTP.ReadTimeout
	}
	body := &uploadBody{r: http.MaxBytesReader(w, r.Body, limit), rc: http.NewResponseController(w), idle: idle,
		end: time.Now().Add(cfg.Timeout)}
	// The operations part is read as a JSON body is: under the memory
	// budget of the bodies being read.
	u, err := uploads.Parse(body, boundary, cfg, uploads.ParseOptions{MaxOperations: maxOps, Spool: s.spool, Client: client,
		ReadOperations: func(r io.Reader, limit int64) ([]byte, error) { return request.ReadAll(r, limit, s.reading) }})
	if err != nil {
		// The rest of the body is not read: the answer goes at once, and
		// the request's body ends with it (closeUnreadBody).
		closeUnreadBody(w, r)
		return nil, request.Request{}, err
	}
	reqs, _, err := request.DecodeBody(u.Operations, request.Options{MaxBodyBytes: maxOps})
	if err != nil {
		return nil, request.Request{}, err
	}
	req := reqs[0]
	if req.Variables, err = u.Bind(req.Variables); err != nil {
		return nil, request.Request{}, err
	}
	return u, req, nil
}

// uploadBody is a multipart body under a read deadline that moves with
// the bytes received: a stall longer than idle ends it, and so does the
// overall end. At the body's end the deadline is lifted: net/http then
// watches the connection, and a deadline passing while a subgraph still
// works would cancel the request.
type uploadBody struct {
	r    io.Reader
	rc   *http.ResponseController
	idle time.Duration
	end  time.Time
	// set is when the deadline was last moved: not on every read.
	set time.Time
}

func (b *uploadBody) Read(p []byte) (int, error) {
	if now := time.Now(); now.Sub(b.set) >= min(time.Second, b.idle/4) {
		d := b.end
		if b.idle > 0 && now.Add(b.idle).Before(d) {
			d = now.Add(b.idle)
		}
		_ = b.rc.SetReadDeadline(d)
		b.set = now
	}
	n, err := b.r.Read(p)
	if err == io.EOF {
		_ = b.rc.SetReadDeadline(time.Time{})
	}
	return n, err
}

// uploadChecks are the checks of an operation carrying files, once it is
// known: a mutation (files are not cached, shared or retried), whose map
// paths lead to Upload scalars.
func uploadChecks(ctx context.Context, api *ast.Schema, op *ast.OperationDefinition) error {
	u := uploads.FromContext(ctx)
	if u == nil {
		return nil
	}
	if op.Operation != ast.Mutation {
		return &reqerr.Error{Code: uploads.CodeBadMap, Status: http.StatusBadRequest, Message: "file uploads are accepted in mutations only"}
	}
	return u.CheckTypes(api, op)
}

// expectUploads tells the upload which fetches of the plan send its files.
func expectUploads(ctx context.Context, p *planner.Plan) {
	if u := uploads.FromContext(ctx); u != nil {
		u.Expect(p.Root)
	}
}

// uploadError is the upload's failure, which answers the request
// whatever its fetches answered (a subgraph never got that file whole).
func uploadError(ctx context.Context) error {
	if u := uploads.FromContext(ctx); u != nil {
		return u.Err()
	}
	return nil
}

// closeUnreadBody ends the body of a request answered before it was read
// whole. Over HTTP/1 the connection closes after the answer: net/http
// would otherwise wait for up to 256 KiB more of the body before
// sending the answer. Over HTTP/2 (an embedder's ServeTLS) only the
// stream ends: net/http resets it (NO_ERROR) once the answer is sent
// and drops its unread data; "Connection: close" there made net/http end
// the whole connection (GOAWAY), every other request of the client on
// it included.
func closeUnreadBody(w http.ResponseWriter, r *http.Request) {
	if r.ProtoMajor < 2 {
		w.Header().Set("Connection", "close")
	}
}
