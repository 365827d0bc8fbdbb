package jsonvalue

import (
	"encoding/binary"
	"math/bits"
	"unsafe"
)

// Keys is a set of object keys that documents can be parsed against
// (Parser.ParseKeys): a parsed key equal to one of the set shares the
// set's string, so looking it up by that string (Get, Field, FieldAt,
// Lookup) compares two pointers instead of two texts. A query plan reads
// the same few keys in every answer, so it makes the set once, from the
// strings it looks the keys up by.
//
// A Keys is not changed once made: concurrent use is safe.
type Keys struct {
	// slots is a table of the keys, a power of two long, in which each
	// key has the slot its first 16 bytes hash to: finding a parsed key
	// is one hash and one slot's comparison, no probing. NewKeys picks
	// the hash's multiplier that leaves the fewest keys out (a key whose
	// slot is an earlier key's is left out).
	slots []keySlot
	n     int
	mul   uint64
	shift uint8
}

type keySlot struct {
	s string
	// w0 and w1 are s's first sixteen bytes, zero-padded: keys of up to
	// 16 bytes (nearly all) are compared by them alone.
	w0, w1 uint64
}

// maxSlots bounds the table (32 bytes a slot): a plan of more keys than
// fit has some of them compared by text.
const maxSlots = 1 << 13

// multipliers are the odd constants NewKeys tries for the hash.
var multipliers = [...]uint64{
	0x2cb0f69f4abea221, 0x9417034723148989, 0xdd555950609dfe03, 0xdbafb150deb12801,
	0x7e789b2e6c442cb7, 0xf41e5636c7e4f8c5, 0x0959d150f8fba7e5, 0xa97316f13cdb9eeb,
	0x74cd8258f9520069, 0x55c74a62e116868b, 0xd2f4c799a2023cbd, 0xdf98cb79a37b51b9,
	0x396f5885524f3905, 0xaf1d56386ca3b277, 0xa9ffbe6b5104e85b, 0x6bd0c51b9fd533b3,
}

// NewKeys returns the set of keys; a repeated key counts once, "" not at
// all. Its strings are the first of each text in keys.
func NewKeys(keys []string) *Keys {
	k := &Keys{}
	distinct := make([]string, 0, len(keys))
	seen := make(map[string]bool, len(keys))
	for _, s := range keys {
		if s != "" && !seen[s] {
			seen[s] = true
			distinct = append(distinct, s)
		}
	}
	if len(distinct) == 0 {
		return k
	}
	size := 16
	for size < 8*len(distinct) && size < maxSlots {
		size *= 2
	}
	k.shift = uint8(64 - bits.TrailingZeros(uint(size)))
	// The multiplier that leaves the fewest keys out; most sets of a
	// plan's size get one that leaves none.
	used := make([]bool, size)
	best, bestOut := multipliers[0], len(distinct)+1
	for _, m := range multipliers {
		k.mul = m
		clear(used)
		out := 0
		for _, s := range distinct {
			w0, w1 := words(s)
			if h := k.slot(w0, w1); used[h] {
				out++
			} else {
				used[h] = true
			}
		}
		if out < bestOut {
			best, bestOut = m, out
		}
		if out == 0 {
			break
		}
	}
	k.mul = best
	k.slots = make([]keySlot, size)
	for _, s := range distinct {
		w0, w1 := words(s)
		if sl := &k.slots[k.slot(w0, w1)]; sl.s == "" {
			*sl = keySlot{s: s, w0: w0, w1: w1}
			k.n++
		}
	}
	return k
}

// Len is the number of keys in the set (those left out not counted).
func (k *Keys) Len() int {
	if k == nil {
		return 0
	}
	return k.n
}

func (k *Keys) slot(w0, w1 uint64) uint64 {
	return ((w0 ^ w1*0xff51afd7ed558ccd) * k.mul) >> (k.shift & 63)
}

// lookup returns the set's string equal to key.
func (k *Keys) lookup(key string) (string, bool) {
	if len(k.slots) == 0 {
		return "", false
	}
	w0, w1 := words(key)
	sl := &k.slots[k.slot(w0, w1)]
	if sl.w0 == w0 && sl.w1 == w1 && len(sl.s) == len(key) && (len(key) <= 16 || sl.s[16:] == key[16:]) {
		return sl.s, true
	}
	return "", false
}

// Intern returns the set's string equal to key, or key when the set has
// none (a nil set has none).
func (k *Keys) Intern(key string) string {
	if k == nil {
		return key
	}
	if s, ok := k.lookup(key); ok {
		return s
	}
	return key
}

// words returns the first sixteen bytes of s, zero-padded.
func words(s string) (uint64, uint64) {
	var b [16]byte
	copy(b[:], s)
	return binary.LittleEndian.Uint64(b[:8]), binary.LittleEndian.Uint64(b[8:])
}

// word returns the set's string of n bytes (below 16) that are w0 and
// w1 (zero-padded).
func (k *Keys) word(w0, w1 uint64, n int) (string, bool) {
	sl := &k.slots[k.slot(w0, w1)&uint64(len(k.slots)-1)]
	if sl.w0 == w0 && sl.w1 == w1 && len(sl.s) == n {
		return sl.s, true
	}
	return "", false
}

// sameKey reports whether a and b are the same text, comparing their
// pointers first: keys parsed against a Keys share its strings.
func sameKey(a, b string) bool {
	return len(a) == len(b) && (unsafe.StringData(a) == unsafe.StringData(b) || a == b)
}

// SameString reports whether a and b are the same string: the same bytes
// (a key parsed against a Keys and the set's string of its text), not
// only the same text. It never compares texts.
func SameString(a, b string) bool {
	return len(a) == len(b) && unsafe.StringData(a) == unsafe.StringData(b)
}

// SameKey reports whether a and b are the same text. It is string
// equality, telling strings that share their bytes (keys parsed against a
// Keys and the set's own strings) without comparing them.
func SameKey(a, b string) bool { return sameKey(a, b) }

// Size estimates the bytes of memory the set holds (its table; the
// strings are the plan's own).
func (k *Keys) Size() int64 {
	if k == nil {
		return 0
	}
	return int64(unsafe.Sizeof(*k)) + int64(len(k.slots))*int64(unsafe.Sizeof(keySlot{}))
}
