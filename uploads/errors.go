package uploads

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"

	"github.com/fedgate/gateway/internal/reqerr"
)

// The extensions.code of upload errors.
const (
	CodeFileTooLarge   = "UPLOAD_FILE_TOO_LARGE"      // 413: one file is over max_file_bytes
	CodeTooManyFiles   = "UPLOAD_TOO_MANY_FILES"      // 413: the map names more than max_files
	CodeTooLarge       = "UPLOAD_TOO_LARGE"           // 413: the files together are over max_total_bytes
	CodeMalformed      = "UPLOAD_MALFORMED"           // 400: not a multipart request of the spec
	CodeBadMap         = "UPLOAD_MAP_INVALID"         // 400: the map does not fit the operation
	CodeBatch          = "UPLOAD_BATCH_NOT_SUPPORTED" // 400: operations is an array
	CodeRequestTimeout = "REQUEST_TIMEOUT"            // 408: the body stalled or took too long
	CodeSpoolFull      = "UPLOAD_SPOOL_FULL"          // 503: the process's spool budget (max_spool_bytes) is spent
	// 429: the client holds its share of the spool budget (three
	// quarters, or one request's max_total_bytes if more).
	CodeSpoolClientLimit = "UPLOAD_SPOOL_CLIENT_LIMIT"
)

// IsUploadError reports an error of this package: a refusal of the
// multipart HTTP request itself, whose status no media type changes (a
// 400 stays a 400 for application/json too).
func IsUploadError(e *reqerr.Error) bool {
	return strings.HasPrefix(e.Code, "UPLOAD_")
}

func malformed(format string, args ...any) *reqerr.Error {
	return &reqerr.Error{Code: CodeMalformed, Message: fmt.Sprintf(format, args...), Status: http.StatusBadRequest}
}

func badMap(format string, args ...any) *reqerr.Error {
	return &reqerr.Error{Code: CodeBadMap, Message: fmt.Sprintf(format, args...), Status: http.StatusBadRequest}
}

func tooLarge(code, format string, args ...any) *reqerr.Error {
	return &reqerr.Error{Code: code, Message: fmt.Sprintf(format, args...), Status: http.StatusRequestEntityTooLarge}
}

// readError is the answer to a failed read of the client's body.
func readError(err error) *reqerr.Error {
	var netErr net.Error
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return tooLarge(CodeTooLarge, "the request is larger than %d bytes", tooBig.Limit)
	case errors.As(err, &netErr) && netErr.Timeout() || errors.Is(err, os.ErrDeadlineExceeded):
		return &reqerr.Error{Code: CodeRequestTimeout, Message: "the request body did not arrive in time", Status: http.StatusRequestTimeout}
	}
	return malformed("could not read the multipart body: %s", clip(err.Error(), 128))
}

// clip cuts client input before it goes into a message.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n] + "..."
}
