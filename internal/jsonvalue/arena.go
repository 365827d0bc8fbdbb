package jsonvalue

// Arena makes values that are not parsed: new objects, and copies. Like
// a Parser's, its memory is reused after Reset. An Arena is not safe
// for concurrent use.
type Arena struct {
	vals []Value
}

// Reset makes the arena's memory available again: the values it made
// before must no longer be used.
func (a *Arena) Reset() {
	a.vals = a.vals[:0]
}

// Len is the number of values made since the last Reset.
func (a *Arena) Len() int { return len(a.vals) }

func (a *Arena) alloc(t Type) *Value {
	v := nextSlot(&a.vals, t)
	// The copies outlive the documents they were made from: drop the
	// references the slot's storage still holds.
	clear(v.kvs[:cap(v.kvs)])
	clear(v.a[:cap(v.a)])
	return v
}

// NewObject returns an empty object.
func (a *Arena) NewObject() *Value { return a.alloc(TypeObject) }

// Copy returns v with its objects and arrays copied into the arena;
// strings, numbers and literals are shared (nothing changes them).
func (a *Arena) Copy(v *Value) *Value {
	switch v.Type() {
	case TypeObject:
		o := a.alloc(TypeObject)
		for _, m := range v.kvs {
			o.kvs = append(o.kvs, Member{Key: m.Key, Value: a.Copy(m.Value)})
		}
		return o
	case TypeArray:
		arr := a.alloc(TypeArray)
		for _, x := range v.a {
			arr.a = append(arr.a, a.Copy(x))
		}
		return arr
	}
	return v
}
