package engine

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"hash"

	"github.com/zclconf/go-cty/cty"
)

// Digest hashes a step instance's desired input: kind, arguments and host
// identity. ok is false while any argument is unknown. Marks (sensitive)
// do not change the digest.
func Digest(kind string, args cty.Value, host, providerID string) (string, bool) {
	h := sha256.New()
	for _, s := range []string{kind, host, providerID} {
		writeString(h, s)
	}
	if !hashValue(h, args) {
		return "", false
	}
	return hex.EncodeToString(h.Sum(nil))[:32], true
}

func writeLen(h hash.Hash, n int) {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], uint64(n))
	h.Write(b[:])
}

func writeString(h hash.Hash, s string) {
	var n [8]byte
	binary.LittleEndian.PutUint64(n[:], uint64(len(s)))
	h.Write(n[:])
	h.Write([]byte(s))
}

// hashValue writes an unambiguous encoding of v (type tag, lengths, then
// contents; object and map keys sorted). It returns false on unknowns.
func hashValue(h hash.Hash, v cty.Value) bool {
	if v.IsMarked() {
		v, _ = v.Unmark()
	}
	if !v.IsKnown() {
		return false
	}
	if v.IsNull() {
		h.Write([]byte{'n'})
		return true
	}
	ty := v.Type()
	switch {
	case ty == cty.String:
		h.Write([]byte{'s'})
		writeString(h, v.AsString())
	case ty == cty.Number:
		h.Write([]byte{'#'})
		writeString(h, v.AsBigFloat().Text('g', -1))
	case ty == cty.Bool:
		if v.True() {
			h.Write([]byte{'t'})
		} else {
			h.Write([]byte{'f'})
		}
	case ty.IsListType() || ty.IsTupleType() || ty.IsSetType() || ty.IsMapType() || ty.IsObjectType():
		// Element iterators visit map keys and object attributes in sorted
		// order, so the encoding is deterministic.
		h.Write([]byte{'['})
		writeLen(h, v.LengthInt())
		keyed := ty.IsMapType() || ty.IsObjectType()
		for it := v.ElementIterator(); it.Next(); {
			k, e := it.Element()
			if keyed {
				writeString(h, k.AsString())
			}
			if !hashValue(h, e) {
				return false
			}
		}
	default:
		h.Write([]byte{'?'})
		writeString(h, ty.FriendlyName())
	}
	return true
}
