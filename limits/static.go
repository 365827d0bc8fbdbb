package limits

import (
	"errors"
	"fmt"
	"strings"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"
)

// Static holds the limits checked on a document before validation. A limit
// of 0 (or less) disables that check; DefaultStatic gives production
// defaults.
type Static struct {
	// MaxTokens caps the lexical tokens of a document, comments included
	// (gqlparser's token limit, enforced while parsing), and the argument
	// values of its operations with fragments expanded to valuesPerToken
	// times as many (what validation walks).
	MaxTokens int
	// MaxDepth caps the nesting of selection sets in an operation after
	// fragment expansion: "{ me { id } }" has depth 2.
	MaxDepth int
	// MaxAliases caps the aliased response keys (alias differs from the
	// field name) of an operation's merged response tree: fragments
	// expanded and fields merged, each position counts its aliased keys
	// once, however many selections name them. Aliases of __typename, which
	// cost no resolver, do not count. See mergedAliases.
	MaxAliases int
	// MaxFields caps the field selections of an operation after fragment
	// expansion; a fragment spread n times counts n times.
	MaxFields int
	// MaxRootFields caps the root fields of an operation: the distinct
	// response keys at its top level, fragments expanded (one field
	// selected twice there is one root field).
	MaxRootFields int
	// MaxDirectivesPerField caps the directives on one field (and on one
	// fragment spread, inline fragment, operation, fragment or variable
	// definition).
	MaxDirectivesPerField int
	// MaxNesting caps the raw nesting of {, ( and [ together in the document
	// text, checked by Prescan before parsing.
	MaxNesting int
	// MaxFragmentDepth caps chains of fragments spreading fragments: in
	// "{ ...A } fragment A on T { ...B } fragment B on T { id }" the
	// operation reaches depth 2. Every fragment definition is held to it,
	// used or not, so no later recursive pass meets a long chain.
	MaxFragmentDepth int
	// MaxFieldMerges caps the work of checking that fields can merge
	// (see checkMerges): at every response position of every operation
	// and fragment, the square of the field selections merged into it
	// plus the square of the fragment spreads expanded into it, summed.
	// An ordinary document of n distinct fields counts about n.
	MaxFieldMerges int
}

// DefaultStatic returns the production defaults: 15000 tokens, depth 25,
// 30 aliases, 1500 fields, 30 root fields, 10 directives per field, raw
// nesting 100, fragment chains 32 deep and 30000 steps of field merging.
func DefaultStatic() Static {
	return Static{
		MaxTokens:             15000,
		MaxDepth:              25,
		MaxAliases:            30,
		MaxFields:             1500,
		MaxRootFields:         30,
		MaxDirectivesPerField: 10,
		MaxNesting:            100,
		MaxFragmentDepth:      32,
		MaxFieldMerges:        30000,
	}
}

// Parse runs Prescan and then parses query with gqlparser under the
// MaxTokens limit. Errors are *Error with code MAX_NESTING_EXCEEDED,
// MAX_TOKENS_EXCEEDED or GRAPHQL_PARSE_FAILED, all status 400.
func (s Static) Parse(query string) (*ast.QueryDocument, error) {
	if err := s.Prescan(query); err != nil {
		return nil, err
	}
	doc, err := parser.ParseQueryWithTokenLimit(&ast.Source{Input: query}, max(s.MaxTokens, 0))
	if err != nil {
		return nil, s.parseError(err)
	}
	return doc, nil
}

// parseError maps a gqlparser error to an *Error.
func (s Static) parseError(err error) *Error {
	msg := err.Error()
	var gqlErr *gqlerror.Error
	if errors.As(err, &gqlErr) {
		msg = gqlErr.Message
	}
	switch {
	case strings.HasPrefix(msg, "exceeded token limit"):
		return badRequest(CodeMaxTokensExceeded, "the document has more than %d tokens", s.MaxTokens)
	case strings.HasPrefix(msg, "exceeded maximum nesting depth"):
		// gqlparser's own guard, for when MaxNesting is disabled or larger.
		return badRequest(CodeMaxNestingExceeded, "the document nests more than %d levels", parser.MaxNestingDepth)
	}
	out := "Syntax Error: " + clipQuoted(msg)
	if gqlErr != nil && len(gqlErr.Locations) > 0 {
		l := gqlErr.Locations[0]
		out += fmt.Sprintf(" (line %d, column %d)", l.Line, l.Column)
	}
	return &Error{Code: CodeParseFailed, Message: out, Status: 400}
}
