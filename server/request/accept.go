package request

import (
	"strconv"
	"strings"
)

// Response media types of GraphQL over HTTP.
const (
	// GraphQLResponseJSON is the media type of the GraphQL over HTTP spec:
	// with it, a request that fails to parse or validate is a 4xx.
	GraphQLResponseJSON = "application/graphql-response+json"
	// JSON is the legacy media type: with it, every well-formed request is
	// answered 200, whatever errors the GraphQL response holds.
	JSON = "application/json"
)

// ResponseType picks the media type of the answer from an Accept header,
// as GraphQL over HTTP asks: application/graphql-response+json when the
// client names it and likes it at least as much as application/json;
// otherwise application/json, which is also the answer to a missing
// Accept header, to */* alone, and to an Accept header naming neither (the
// spec allows ignoring such a header rather than answering 406).
func ResponseType(accept string) string {
	switch accept {
	case "", "*/*", JSON:
		return JSON
	case GraphQLResponseJSON, GraphQLResponseJSON + ", " + JSON, GraphQLResponseJSON + "," + JSON:
		return GraphQLResponseJSON
	}
	gq, spec := quality(accept, GraphQLResponseJSON)
	if spec == exact && gq > 0 {
		if jq, _ := quality(accept, JSON); gq >= jq {
			return GraphQLResponseJSON
		}
	}
	return JSON
}

// How specifically a media range matched a media type.
const (
	noMatch = iota
	anyType // */*
	anySub  // type/*
	exact   // type/subtype
)

// Quality returns the q-value that the Accept header gives to mediaType
// (lower case "type/subtype"), from the most specific media range that
// matches it (RFC 9110, 12.5.1); 0 when no range matches. An empty header
// accepts everything with q=1.
func Quality(accept, mediaType string) float64 {
	q, _ := quality(accept, mediaType)
	return q
}

// quality is Quality, and how specific the range was that decided it.
func quality(accept, mediaType string) (q float64, specificity int) {
	if strings.TrimSpace(accept) == "" {
		return 1, anyType
	}
	typ, _, _ := strings.Cut(mediaType, "/")
	for accept != "" {
		var item string
		item, accept, _ = strings.Cut(accept, ",")
		rng, params, _ := strings.Cut(item, ";")
		rng = strings.TrimSpace(rng)
		s := noMatch
		switch {
		case strings.EqualFold(rng, mediaType):
			s = exact
		case rng == "*/*":
			s = anyType
		case len(rng) == len(typ)+2 && strings.HasSuffix(rng, "/*") && strings.EqualFold(rng[:len(typ)], typ):
			s = anySub
		}
		if s == noMatch || s < specificity {
			continue
		}
		rq := qValue(params)
		if s > specificity || rq > q {
			q, specificity = rq, s
		}
	}
	return q, specificity
}

// qValue reads the q parameter of a media range's parameters; 1 if absent,
// 0 if malformed or out of range.
func qValue(params string) float64 {
	for params != "" {
		var p string
		p, params, _ = strings.Cut(params, ";")
		k, v, ok := strings.Cut(p, "=")
		if !ok || !strings.EqualFold(strings.TrimSpace(k), "q") {
			continue
		}
		q, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil || q < 0 || q > 1 {
			return 0
		}
		return q
	}
	return 1
}
