// Package difftest runs generated operations against fedgate and reference
// gateways in front of the same subgraphs and reports where fedgate's
// answer differs from the references', with the operation minimized.
package difftest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Result is one gateway's answer to one operation, reduced to what the
// comparison looks at: the data in response order, whether there are
// errors, and their paths. Error messages are not compared.
type Result struct {
	// Status is the HTTP status.
	Status int
	// Body is the response body as received.
	Body []byte
	// Data is the canonical JSON of "data" (key order kept, numbers
	// normalized); "null" when absent.
	Data string
	// Errors lists the error paths, sorted ("-" for an error without one).
	Errors []string
	// Codes lists the errors' extensions.code values, sorted.
	Codes []string
	// Failure is set when the request did not get a GraphQL answer.
	Failure string
	// Died is set when a reference crashed or timed out on the operation,
	// even asked again alone on a fresh process (Reference, DiedHeader):
	// what happened.
	Died string
}

// Crashed reports whether the answer shows the gateway broke on the
// operation: an internal error without data, or a validation error (the
// generated operations are valid, so a validation error means the gateway
// sent a subgraph a query it rejects). A reference that crashed says
// nothing about the right answer.
func (r Result) Crashed() bool {
	if r.Failure != "" {
		return true
	}
	for _, c := range r.Codes {
		if c == "GRAPHQL_VALIDATION_FAILED" || (c == "INTERNAL_SERVER_ERROR" && r.Data == "null") {
			return true
		}
	}
	// A subgraph's validation error passed on without a code.
	for _, m := range validationMessages {
		if bytes.Contains(r.Body, []byte(m)) {
			return true
		}
	}
	return false
}

// validationMessages are parts of graphql-js validation messages: a
// reference answering one to a valid operation sent a subgraph an invalid
// query.
var validationMessages = []string{
	"conflict because", "is not defined by operation", "can never be of type",
	"Cannot query field", "Unknown argument", "Unknown fragment", "Unknown type",
}

// Parse reads a GraphQL response body.
func Parse(status int, body []byte) Result {
	r := Result{Status: status, Body: body, Data: "null"}
	var top struct {
		Data   json.RawMessage `json:"data"`
		Errors []struct {
			Path       []any `json:"path"`
			Extensions struct {
				Code any `json:"code"`
			} `json:"extensions"`
		} `json:"errors"`
	}
	if err := json.Unmarshal(body, &top); err != nil {
		r.Failure = fmt.Sprintf("HTTP %d, body is not a GraphQL response: %.200s", status, body)
		return r
	}
	if len(top.Data) > 0 {
		c, err := Canonical(top.Data)
		if err != nil {
			r.Failure = err.Error()
			return r
		}
		r.Data = c
	}
	for _, e := range top.Errors {
		if e.Extensions.Code != nil {
			r.Codes = append(r.Codes, fmt.Sprint(e.Extensions.Code))
		}
		if len(e.Path) == 0 {
			r.Errors = append(r.Errors, "-")
			continue
		}
		parts := make([]string, len(e.Path))
		for i, p := range e.Path {
			parts[i] = fmt.Sprint(p)
		}
		r.Errors = append(r.Errors, strings.Join(parts, "."))
	}
	sort.Strings(r.Errors)
	sort.Strings(r.Codes)
	return r
}

// Canonical re-encodes JSON compactly, keeping object key order (GraphQL
// response order is significant) and printing numbers in one form.
func Canonical(raw []byte) (string, error) {
	return canonical(raw, nil)
}

// canonical is Canonical with object keys renamed by rename (when set and
// the key is in it).
func canonical(raw []byte, rename map[string]string) (string, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var b strings.Builder
	if err := canon(dec, &b, rename); err != nil {
		return "", fmt.Errorf("canonical JSON: %w", err)
	}
	return b.String(), nil
}

func canon(dec *json.Decoder, b *strings.Builder, rename map[string]string) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			b.WriteByte('{')
			for first := true; dec.More(); first = false {
				if !first {
					b.WriteByte(',')
				}
				k, err := dec.Token()
				if err != nil {
					return err
				}
				key := k.(string)
				if to, ok := rename[key]; ok {
					key = to
				}
				b.WriteString(strconv.Quote(key))
				b.WriteByte(':')
				if err := canon(dec, b, rename); err != nil {
					return err
				}
			}
			b.WriteByte('}')
		case '[':
			b.WriteByte('[')
			for first := true; dec.More(); first = false {
				if !first {
					b.WriteByte(',')
				}
				if err := canon(dec, b, rename); err != nil {
					return err
				}
			}
			b.WriteByte(']')
		}
		_, err := dec.Token() // the closing delimiter
		if err != nil && err != io.EOF {
			return err
		}
	case json.Number:
		f, err := t.Float64()
		if err != nil {
			return err
		}
		b.WriteString(strconv.FormatFloat(f, 'g', -1, 64))
	case string:
		b.WriteString(strconv.Quote(t))
	case bool:
		b.WriteString(strconv.FormatBool(t))
	case nil:
		b.WriteString("null")
	}
	return nil
}

// Renamed returns r with the response keys in data and error paths
// renamed by m.
func (r Result) Renamed(m map[string]string) Result {
	if r.Failure != "" {
		return r
	}
	out := r
	if d, err := canonical([]byte(r.Data), m); err == nil {
		out.Data = d
	}
	out.Errors = make([]string, len(r.Errors))
	for i, p := range r.Errors {
		parts := strings.Split(p, ".")
		for j, part := range parts {
			if to, ok := m[part]; ok {
				parts[j] = to
			}
		}
		out.Errors[i] = strings.Join(parts, ".")
	}
	sort.Strings(out.Errors)
	return out
}

// Signature is what two answers must share to count as the same.
func (r Result) Signature() string {
	if r.Failure != "" {
		return "failure"
	}
	return r.Data + " errors:" + strings.Join(r.Errors, ",")
}

// Verdict is the outcome of comparing one operation's answers.
type Verdict int

const (
	// Agree: fedgate answered as the references did, or as one of them
	// when they disagree with each other.
	Agree Verdict = iota
	// Differs: two or more references answered, they agree with each
	// other, and fedgate's answer differs. This is a failure.
	Differs
	// Review: fedgate differs from the only reference, or from the
	// references that did not crash (see Result.Crashed) while another
	// did. Listed, not a failure: one reference alone is often wrong.
	Review
	// RefsDisagree: the references answer differently from each other and
	// fedgate matches none of them, nor their parts (RefsSplit). Not a
	// failure, but worth a look where fedgate differs from a value both
	// references share.
	RefsDisagree
	// RefsCrashed: every reference crashed. Not a failure.
	RefsCrashed
	// AliasDivergence: the references' answer changes when the
	// operation's aliases are renamed (it must not: an alias only names a
	// response key), and with the aliases renamed they answer what fedgate
	// answered. The references mishandle these aliases; see
	// docs/differential.md. Not a failure.
	AliasDivergence
	// DocumentDivergence: the references' answer changes when the
	// document's other operations are left out (it must not: a request
	// runs the operation it selects), and with them left out (and the
	// aliases renamed) they answer what fedgate answered. Not a failure.
	DocumentDivergence
	// RefDied: a reference process crashed (for example past its heap
	// cap) or did not answer within its deadline, twice, and was started
	// again (Reference). Its own class: the operation says nothing about
	// fedgate, and one runaway plan does not stall the run. Not a
	// failure.
	RefDied
	// RefsSplit: the references answer differently from each other, and
	// fedgate's answer is made of theirs: every value both references
	// share is fedgate's, and where they differ fedgate has one of their
	// values (Patchwork). Each reference is wrong somewhere the other is
	// right; for example Apollo Gateway refuses an alias `__typename` on
	// another field while Hive Gateway nulls a split value type beside it.
	// Not a failure.
	RefsSplit
	// ErrorsDiffer: the answers agree as Judge compares them (data, error
	// paths), or every gateway refused the request, but the references
	// agree with each other on the errors' details and fedgate's differ
	// (ErrorDetailsDiffer: messages, request errors' locations and codes).
	// Judged only with Runner.StrictErrors; then a failure.
	ErrorsDiffer
)

func (v Verdict) String() string {
	return [...]string{"agree", "differs", "differs from the references that did not crash (review)",
		"references disagree", "every reference crashed",
		"the references answer differently once the aliases are renamed, and then as fedgate does (reference alias bug)",
		"the references answer differently once the other operations of the document are left out, and then as fedgate does (reference document bug)",
		"reference crashed/timed out",
		"references disagree, fedgate agrees with each where the other errs",
		"errors differ in message, locations or code (strict)"}[v]
}

// Judge compares fedgate's answer with the references'.
func Judge(fedgate Result, refs []Result) Verdict {
	var usable []Result
	for _, r := range refs {
		if !r.Crashed() {
			usable = append(usable, r)
		}
	}
	if len(usable) == 0 {
		return RefsCrashed
	}
	got := fedgate.Signature()
	want := usable[0].Signature()
	for _, r := range usable[1:] {
		if r.Signature() != want {
			for _, x := range usable {
				if x.Signature() == got {
					return Agree
				}
			}
			if Patchwork(fedgate, usable) {
				return RefsSplit
			}
			return RefsDisagree
		}
	}
	switch {
	case got == want:
		return Agree
	case len(usable) < len(refs) || len(refs) < 2:
		return Review
	default:
		return Differs
	}
}

// Patchwork reports whether fedgate's answer is made of the references'
// answers, which differ from each other: its data has, at every position
// where the references' data agree, their value, and elsewhere the value
// of one of them (objects and lists of the same length compared position
// by position, so two references wrong at different places still pin the
// rest); each of its error paths is some reference's, and an error path
// every reference has is its.
func Patchwork(fedgate Result, refs []Result) bool {
	if fedgate.Failure != "" || len(refs) < 2 {
		return false
	}
	f, ok := decodeData(fedgate.Data)
	if !ok {
		return false
	}
	rs := make([]any, len(refs))
	for i, r := range refs {
		if rs[i], ok = decodeData(r.Data); !ok || r.Failure != "" {
			return false
		}
	}
	if !patch(f, rs) {
		return false
	}
	for _, p := range fedgate.Errors {
		if !slices.ContainsFunc(refs, func(r Result) bool { return slices.Contains(r.Errors, p) }) {
			return false
		}
	}
	for _, p := range refs[0].Errors {
		if !slices.Contains(fedgate.Errors, p) && !slices.ContainsFunc(refs[1:], func(r Result) bool { return !slices.Contains(r.Errors, p) }) {
			return false
		}
	}
	return true
}

// absent stands for a member an object does not have.
var absent = new(struct{})

func decodeData(s string) (any, bool) {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, false
	}
	return v, true
}

func patch(f any, refs []any) bool {
	same := true
	for _, r := range refs[1:] {
		if !reflect.DeepEqual(r, refs[0]) {
			same = false
			break
		}
	}
	if same {
		return reflect.DeepEqual(f, refs[0])
	}
	for _, r := range refs {
		if reflect.DeepEqual(f, r) {
			return true
		}
	}
	switch fv := f.(type) {
	case map[string]any:
		keys := map[string]bool{}
		for k := range fv {
			keys[k] = true
		}
		for _, r := range refs {
			m, ok := r.(map[string]any)
			if !ok {
				return false
			}
			for k := range m {
				keys[k] = true
			}
		}
		for k := range keys {
			sub := make([]any, len(refs))
			for i, r := range refs {
				if v, ok := r.(map[string]any)[k]; ok {
					sub[i] = v
				} else {
					sub[i] = absent
				}
			}
			x, ok := fv[k]
			if !ok {
				x = absent
			}
			if !patch(x, sub) {
				return false
			}
		}
		return true
	case []any:
		for _, r := range refs {
			l, ok := r.([]any)
			if !ok || len(l) != len(fv) {
				return false
			}
		}
		for i := range fv {
			sub := make([]any, len(refs))
			for j, r := range refs {
				sub[j] = r.([]any)[i]
			}
			if !patch(fv[i], sub) {
				return false
			}
		}
		return true
	}
	return false
}
