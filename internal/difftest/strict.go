package difftest

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
)

// errorDetails describes each error of a GraphQL response body for the
// stricter comparison (Runner.StrictErrors), sorted: a request error (one
// without a path: validation, variable coercion) by its message, locations
// and extensions.code, a field error by its path and message. Locations of
// field errors are not compared: a gateway may report the subgraph's
// locations, its own, or none.
//
// Without withCode the codes are left out: ErrorDetailsDiffer compares
// them only where the references agree on them (Hive Gateway gives a
// variable coercion error no code, Apollo Gateway BAD_USER_INPUT).
func errorDetails(body []byte, withCode bool) []string {
	var top struct {
		Errors []struct {
			Message   string `json:"message"`
			Path      []any  `json:"path"`
			Locations []struct {
				Line   int `json:"line"`
				Column int `json:"column"`
			} `json:"locations"`
			Extensions struct {
				Code any `json:"code"`
			} `json:"extensions"`
		} `json:"errors"`
	}
	if err := json.Unmarshal(body, &top); err != nil {
		return nil
	}
	out := make([]string, 0, len(top.Errors))
	for _, e := range top.Errors {
		if len(e.Path) > 0 {
			parts := make([]string, len(e.Path))
			for i, p := range e.Path {
				parts[i] = fmt.Sprint(p)
			}
			out = append(out, fmt.Sprintf("field %s: %q", strings.Join(parts, "."), e.Message))
			continue
		}
		locs := make([]string, len(e.Locations))
		for i, l := range e.Locations {
			locs[i] = fmt.Sprintf("%d:%d", l.Line, l.Column)
		}
		code := ""
		if e.Extensions.Code != nil && withCode {
			code = fmt.Sprint(e.Extensions.Code)
		}
		d := fmt.Sprintf("request %q at [%s]", e.Message, strings.Join(locs, " "))
		if withCode {
			d += " code " + code
		}
		out = append(out, d)
	}
	sort.Strings(out)
	return out
}

// ErrorDetailsDiffer reports whether the references agree with each other
// on every error's details (errorDetails: message, locations and code of
// request errors; path and message of field errors) and fedgate's differ.
// Where the references agree on everything but the codes, the codes are
// left out of the comparison.
// It needs two references or more, every one with a GraphQL answer; with
// fewer, or references that differ from each other, nothing is judged. It
// returns the details that differ: the references' missing from fedgate's
// answer, then fedgate's that no reference has, each prefixed by whose it
// is.
func ErrorDetailsDiffer(fedgate Result, refs []Result) (bool, []string) {
	if fedgate.Failure != "" || len(refs) < 2 {
		return false, nil
	}
	for _, r := range refs {
		if r.Failure != "" {
			return false, nil
		}
	}
	agree := func(withCode bool) ([]string, bool) {
		want := errorDetails(refs[0].Body, withCode)
		for _, r := range refs[1:] {
			if !slices.Equal(errorDetails(r.Body, withCode), want) {
				return nil, false
			}
		}
		return want, true
	}
	withCode := true
	want, ok := agree(true)
	if !ok {
		if want, ok = agree(false); !ok {
			return false, nil
		}
		withCode = false
	}
	got := errorDetails(fedgate.Body, withCode)
	if slices.Equal(got, want) {
		return false, nil
	}
	var diff []string
	for _, w := range want {
		if !slices.Contains(got, w) {
			diff = append(diff, "references: "+w)
		}
	}
	for _, g := range got {
		if !slices.Contains(want, g) {
			diff = append(diff, "fedgate: "+g)
		}
	}
	return true, diff
}

// isRequestError reports whether r is an answer without data and with
// errors that have no path: the request was refused before execution.
func isRequestError(r Result) bool {
	return r.Failure == "" && r.Data == "null" && len(r.Errors) > 0 && !slices.ContainsFunc(r.Errors, func(p string) bool { return p != "-" })
}

var escapedQuoted = regexp.MustCompile(`\\"[^\\]*\\"`)

// StrictClass names the class of an ErrorsDiffer case, so that a run's
// cases can be grouped: the first error detail of the references that
// fedgate's answer lacks and fedgate's first that no reference has, with
// quoted names and numbers blanked.
func StrictClass(c Case) string {
	var fedgate Result
	var refs []Result
	for _, a := range c.Answers {
		switch {
		case a.Gateway == "fedgate":
			fedgate = a.Result
		case !strings.Contains(a.Gateway, "("):
			refs = append(refs, a.Result)
		}
	}
	_, diff := ErrorDetailsDiffer(fedgate, refs)
	var ref, own string
	for _, d := range diff {
		if rest, ok := strings.CutPrefix(d, "references: "); ok && ref == "" {
			ref = rest
		}
		if rest, ok := strings.CutPrefix(d, "fedgate: "); ok && own == "" {
			own = rest
		}
	}
	blank := func(s string) string {
		if s == "" {
			return "none"
		}
		s = escapedQuoted.ReplaceAllString(s, "X")
		return fmt.Sprintf("%.160s", numbers.ReplaceAllString(s, "N"))
	}
	return "references " + blank(ref) + " / fedgate " + blank(own)
}
