package planner

import (
	"slices"
	"strconv"
	"strings"
)

// Data keys: the keys under which subgraph answers are merged into one
// response tree.
//
// Client fields keep their response key. Fields the planner adds for itself
// (key fields, @requires and context inputs) keep their own name when no
// client field of the operation uses that response key for another field;
// otherwise they take a response key under which the client selects that
// very field (same arguments) and nothing else, on the field's own type at
// every position it selects objects of that type, so that the two share
// one value and an error at it names a key the client asked it under;
// failing that they move to the reserved namespace: ReservedPrefix + tag +
// "_" + name. A
// client response key that itself starts with ReservedPrefix, or a client
// alias named __typename, is moved there too ("c" tag), so no client alias
// can reach a key the gateway uses: a representation never carries a value
// the client renamed, and an answer never overwrites the gateway's data.
//
// Tags: "c" escapes a client key, "k<n>" is a planner field, "t<n>" a client
// field a fetch had to alias because of a type conflict inside one abstract
// selection (the fetch's output rewrites rename it back).

// ReservedPrefix starts every data key the gateway reserves for itself.
const ReservedPrefix = "_fed_"

// clientDataKey is the data key of a client field.
func clientDataKey(responseKey, name string) string {
	if strings.HasPrefix(responseKey, ReservedPrefix) || (responseKey == "__typename" && name != "__typename") {
		return ReservedPrefix + "c_" + responseKey
	}
	return responseKey
}

// ResponseKeyOf maps a data key back to the response key it stands for,
// for error paths: reserved keys lose their prefix and tag. A key a fetch
// aliased again (a "t" conflict alias of an escaped client key,
// _fed_t0__fed_c___typename) loses every layer the gateway added; a "c"
// layer is the last, as what it escapes is the client's key verbatim (a
// client key may itself start with ReservedPrefix).
func ResponseKeyOf(dataKey string) string {
	for {
		rest, ok := strings.CutPrefix(dataKey, ReservedPrefix)
		if !ok {
			return dataKey
		}
		tag, after, ok := strings.Cut(rest, "_")
		if !ok {
			return dataKey
		}
		if tag == "c" {
			return after
		}
		dataKey = after
	}
}

// dataKeys assigns the data keys of the planner's own fields for one plan.
type dataKeys struct {
	op *Operation
	// clientKeys holds, per response key used by the client anywhere in
	// the operation, the fields it names; built on first use.
	clientKeys map[string][]*Field
	// typeSets counts the client's selection sets per concrete type (one
	// per position objects of the type are selected at), and keyedSets,
	// by type and response key, those of them that hold the key
	// (indexTypes).
	typeSets  map[string]int
	keyedSets map[[2]string]int
	// claimed holds the planner field identity that took a name as its
	// data key; another identity of the same name gets a reserved key.
	claimed  map[string]string
	reserved map[string]string
	// aliased holds the client response key a planner field identity
	// shares on objects of one type (clientAlias), by type and identity;
	// "" when it shares none.
	aliased map[string]string
}

func newDataKeys(op *Operation) *dataKeys { return &dataKeys{op: op} }

func (d *dataKeys) index() {
	d.clientKeys = map[string][]*Field{}
	d.claimed = map[string]string{}
	eachClientField(d.op.Selection, nil, func(_ *TypeFields, f *Field) {
		d.clientKeys[f.ResponseKey] = append(d.clientKeys[f.ResponseKey], f)
	})
}

// eachClientField walks the selection sets below root depth first, each
// set once (the operation may share one): onType (if not nil) sees each
// type's part of a set, then onField each of its fields before the
// field's own selection is walked.
func eachClientField(root *SelectionSet, onType func(*TypeFields), onField func(*TypeFields, *Field)) {
	seen := map[*SelectionSet]bool{}
	var walk func(s *SelectionSet)
	walk = func(s *SelectionSet) {
		if s == nil || seen[s] {
			return
		}
		seen[s] = true
		for _, tf := range s.ByType {
			if onType != nil {
				onType(tf)
			}
			for _, f := range tf.Fields {
				onField(tf, f)
				walk(f.Selection)
			}
		}
	}
	walk(root)
}

// indexTypes counts the client's selection sets per type and those that
// hold each response key (typeSets, keyedSets); built on first use, as
// few plans ever look for a client alias.
func (d *dataKeys) indexTypes() {
	d.typeSets = map[string]int{}
	d.keyedSets = map[[2]string]int{}
	eachClientField(d.op.Selection, func(tf *TypeFields) { d.typeSets[tf.Type]++ }, func(tf *TypeFields, f *Field) {
		d.keyedSets[[2]string{tf.Type, f.ResponseKey}]++
	})
}

// clientUses reports whether the client uses the response key name for a
// field other than name(args).
func (d *dataKeys) clientUses(name, args string) bool {
	for _, f := range d.clientKeys[name] {
		if f.Name != name || argsString(f.Arguments) != args {
			return true
		}
	}
	return false
}

func identity(name, args string) string { return name + "(" + args + ")" }

// clientAlias returns a response key under which the client selects
// name(args) on objects of type parent, at every position it selects such
// objects, and nothing else anywhere in the operation (the first in sorted
// order), when no planner field of another identity took it: the planner's
// field of that identity on parent can share its data, as it shares the
// data of a client field selected under its own name. A key the client
// selects only on other types (an alias in a fragment on another
// implementation of an interface) or at other positions is no such key:
// an error at the planner's field would be reported under a key the
// client's selection of that object does not have. A planner field
// collected on an interface (an entity interface's key) is read from
// objects of every implementation, so it shares no client key; nor does
// any planner field of an operation with @defer.
func (d *dataKeys) clientAlias(parent, name, args, id string) (string, bool) {
	if d.aliased == nil {
		d.aliased = map[string]string{}
	}
	if k, ok := d.aliased[parent+"."+id]; ok {
		return k, k != ""
	}
	if len(d.op.Defers) > 0 {
		// With @defer the client's field and the planner's may be
		// delivered in different payloads: an error at the planner's
		// would be reported in a payload that does not hold the key, and
		// again in the one that does.
		d.aliased[parent+"."+id] = ""
		return "", false
	}
	if d.typeSets == nil {
		d.indexTypes()
	}
	var keys []string
	for k, fields := range d.clientKeys {
		if k == name || k == "__typename" || strings.HasPrefix(k, ReservedPrefix) {
			continue
		}
		same := len(fields) > 0
		for _, f := range fields {
			if f.Name != name || argsString(f.Arguments) != args {
				same = false
				break
			}
		}
		everywhere := d.typeSets[parent] > 0 && d.keyedSets[[2]string{parent, k}] == d.typeSets[parent]
		if c, taken := d.claimed[k]; same && everywhere && (!taken || c == id) {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		d.aliased[parent+"."+id] = "" // none: the reserved key
		return "", false
	}
	slices.Sort(keys)
	d.claimed[keys[0]] = id
	d.aliased[parent+"."+id] = keys[0]
	return keys[0], true
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// key returns the data key of a planner field name(args) on objects of
// type parent: its name when no client response key of the operation means
// something else by it, else a response key under which the client
// selects that very field on parent (and nothing else), else a reserved
// key; the same one for every position of the plan.
func (d *dataKeys) key(parent, name, args string) string {
	if name == "__typename" {
		return name
	}
	if d.clientKeys == nil {
		d.index()
	}
	id := identity(name, args)
	if !strings.HasPrefix(name, ReservedPrefix) && !d.clientUses(name, args) {
		if c, ok := d.claimed[name]; !ok || c == id {
			d.claimed[name] = id
			return name
		}
	}
	if k, ok := d.clientAlias(parent, name, args, id); ok {
		// The data the client's own field holds under its alias: an
		// error of the subgraph at the field is then reported at a key
		// the client selected that field under, not at the name, which
		// the client uses for another field.
		return k
	}
	if k, ok := d.reserved[id]; ok {
		return k
	}
	if d.reserved == nil {
		d.reserved = map[string]string{}
	}
	k := ReservedPrefix + "k" + strconv.Itoa(len(d.reserved)) + "_" + name
	d.reserved[id] = k
	return k
}
