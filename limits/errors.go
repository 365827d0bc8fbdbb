package limits

import (
	"fmt"
	"net/http"
	"unicode/utf8"

	"github.com/fedgate/gateway/internal/reqerr"
)

// Codes used in the extensions.code of errors returned by this package.
const (
	CodeParseFailed           = "GRAPHQL_PARSE_FAILED"
	CodeValidationFailed      = "GRAPHQL_VALIDATION_FAILED"
	CodeMaxTokensExceeded     = "MAX_TOKENS_EXCEEDED"
	CodeMaxDepthExceeded      = "MAX_DEPTH_EXCEEDED"
	CodeMaxAliasesExceeded    = "MAX_ALIASES_EXCEEDED"
	CodeMaxFieldsExceeded     = "MAX_FIELDS_EXCEEDED"
	CodeMaxRootFieldsExceeded = "MAX_ROOT_FIELDS_EXCEEDED"
	CodeMaxDirectivesExceeded = "MAX_DIRECTIVES_EXCEEDED"
	CodeMaxNestingExceeded    = "MAX_NESTING_EXCEEDED"
	CodeMaxFragmentDepth      = "MAX_FRAGMENT_DEPTH_EXCEEDED"

	// CodeCostEstimatedTooExpensive refuses an operation whose estimated
	// cost is over the per-operation maximum (or over what the client's
	// tier allows per window, so that it could never run): status 400.
	// The name is Apollo Router's.
	CodeCostEstimatedTooExpensive = "COST_ESTIMATED_TOO_EXPENSIVE"
	// CodeRateLimited refuses a request over the client's requests per
	// window: status 429 with Retry-After.
	CodeRateLimited = "RATE_LIMITED"
	// CodeCostLimitExceeded refuses a request over the client's cost
	// points per window: status 429 with Retry-After.
	CodeCostLimitExceeded = "COST_LIMIT_EXCEEDED"
	// CodeRateLimitUnavailable refuses a request when the shared limiter
	// is unreachable and the policy fails closed: status 503.
	CodeRateLimitUnavailable = "RATE_LIMIT_UNAVAILABLE"
)

// CostOK is the cost result of an operation that passed the cost checks
// (Apollo's name), as reported to Observe.
const CostOK = "COST_OK"

// maxEcho is the most bytes of client input that an error message quotes.
const maxEcho = 64

// maxMessage caps the length of any message built from another library's
// error text.
const maxMessage = 256

// Error is a request error with a GraphQL extensions code and the HTTP
// status the response should carry.
type Error = reqerr.Error

// badRequest returns an *Error with status 400.
func badRequest(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...), Status: http.StatusBadRequest}
}

// Clip returns s cut to at most n bytes on a rune boundary, with "..."
// appended when anything was cut. Use it before putting client input into
// an error message.
func Clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	i := n
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i] + "..."
}

// clipQuoted shortens every double-quoted segment of msg (as written by
// strconv.Quote) to maxEcho bytes and the whole message to maxMessage bytes,
// so that a library message quoting a huge token stays small.
func clipQuoted(msg string) string {
	out := make([]byte, 0, min(len(msg), maxMessage+8))
	for i := 0; i < len(msg) && len(out) <= maxMessage; {
		c := msg[i]
		if c != '"' {
			out = append(out, c)
			i++
			continue
		}
		// Find the closing quote, honouring backslash escapes.
		j := i + 1
		for j < len(msg) && msg[j] != '"' {
			if msg[j] == '\\' {
				j++
			}
			j++
		}
		end := min(j+1, len(msg))
		seg := msg[i+1 : min(j, len(msg))]
		out = append(out, '"')
		if len(seg) > maxEcho {
			out = append(out, Clip(seg, maxEcho)...)
		} else {
			out = append(out, seg...)
		}
		if j < len(msg) {
			out = append(out, '"')
		}
		i = end
	}
	return Clip(string(out), maxMessage)
}
