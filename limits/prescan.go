package limits

import "unicode/utf8"

// Prescan checks the raw text of a query in one linear pass, before it is
// parsed: the text must be valid UTF-8 (else GRAPHQL_PARSE_FAILED), and
// {, ( and [ together may nest at most MaxNesting deep (else
// MAX_NESTING_EXCEEDED). Strings, block strings and comments are skipped as
// gqlparser's lexer reads them, so brackets inside them do not count.
//
// gqlparser's parser recurses once per nesting level; Prescan keeps a
// hostile document from reaching it.
func (s Static) Prescan(query string) error {
	if !utf8.ValidString(query) {
		return badRequest(CodeParseFailed, "Syntax Error: the document is not valid UTF-8")
	}
	if _, over := maxNesting(query, s.MaxNesting); over {
		return badRequest(CodeMaxNestingExceeded, "the document nests more than %d levels of {, ( or [", s.MaxNesting)
	}
	return nil
}

// maxNesting returns the deepest nesting of {, ( and [ outside strings and
// comments. If limit > 0 it stops as soon as the nesting exceeds limit and
// reports over. A closing bracket without an opening one is ignored: the
// parser reports it.
func maxNesting(q string, limit int) (deepest int, over bool) {
	depth := 0
	for i := 0; i < len(q); {
		if !special[q[i]] {
			i++
			continue
		}
		switch q[i] {
		case '{', '(', '[':
			depth++
			if depth > deepest {
				deepest = depth
				if limit > 0 && depth > limit {
					return deepest, true
				}
			}
			i++
		case '}', ')', ']':
			if depth > 0 {
				depth--
			}
			i++
		case '#':
			i = skipComment(q, i+1)
		case '"':
			if len(q)-i >= 3 && q[i+1] == '"' && q[i+2] == '"' {
				i = skipBlockString(q, i+3)
			} else {
				i = skipString(q, i+1)
			}
		}
	}
	return deepest, false
}

// special marks the bytes maxNesting acts on.
var special = [256]bool{'{': true, '(': true, '[': true, '}': true, ')': true, ']': true, '#': true, '"': true}

// skipComment returns the index of the line terminator (or other control
// character but tab) that ends the comment whose text starts at i.
func skipComment(q string, i int) int {
	for i < len(q) {
		if c := q[i]; c < 0x20 && c != '\t' {
			return i
		}
		i++
	}
	return i
}

// skipString returns the index after the closing quote of the string whose
// contents start at i. A line terminator ends the string unterminated (the
// lexer rejects it); the index of the terminator is returned.
func skipString(q string, i int) int {
	for i < len(q) {
		switch q[i] {
		case '"':
			return i + 1
		case '\\':
			// Every valid escape is a backslash and at least one character
			// that is not a quote terminator; \u digits are plain content.
			i += 2
		case '\n', '\r':
			return i
		default:
			i++
		}
	}
	return len(q)
}

// skipBlockString returns the index after the closing """ of the block
// string whose contents start at i. As in the lexer, \""" is an escaped
// triple quote, and a run of more than three quotes closes the string with
// its last three.
func skipBlockString(q string, i int) int {
	for i < len(q) {
		switch q[i] {
		case '"':
			j := i + 1
			for j < len(q) && q[j] == '"' {
				j++
			}
			if j-i >= 3 {
				return j
			}
			i = j
		case '\\':
			if len(q)-i >= 4 && q[i+1] == '"' && q[i+2] == '"' && q[i+3] == '"' {
				i += 4
			} else {
				i++
			}
		default:
			i++
		}
	}
	return len(q)
}
