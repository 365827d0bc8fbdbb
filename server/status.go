package server

import (
	"net/http"
	"strings"

	"github.com/fedgate/gateway/server/request"
)

// legacyStatus maps the status of a well-formed request's answer for the
// application/json media type, where GraphQL over HTTP wants 200 even when
// the document does not parse or validate or its variables do not coerce
// (all 400 here); with application/graphql-response+json those stay 400.
// Statuses about the HTTP request itself (405, 413, 429, 5xx) stay.
func legacyStatus(contentType string, status int) int {
	if status == http.StatusBadRequest && strings.HasPrefix(contentType, request.JSON) {
		return http.StatusOK
	}
	return status
}
