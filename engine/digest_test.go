package engine

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"hash"
	"math/big"
	"testing"

	"github.com/zclconf/go-cty/cty"
)

// refDigest is the digest as first written (every piece through
// hash.Hash): state files hold digests made this way, so the buffered
// encoder must produce the same bytes or every recorded instance would
// plan as changed.
func refDigest(kind string, args cty.Value, host, providerID string) (string, bool) {
	h := sha256.New()
	for _, s := range []string{kind, host, providerID} {
		refString(h, s)
	}
	if !refValue(h, args) {
		return "", false
	}
	return hex.EncodeToString(h.Sum(nil))[:32], true
}

func refLen(h hash.Hash, n int) {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], uint64(n))
	h.Write(b[:])
}

func refString(h hash.Hash, s string) {
	refLen(h, len(s))
	h.Write([]byte(s))
}

func refValue(h hash.Hash, v cty.Value) bool {
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
		refString(h, v.AsString())
	case ty == cty.Number:
		h.Write([]byte{'#'})
		refString(h, v.AsBigFloat().Text('g', -1))
	case ty == cty.Bool:
		if v.True() {
			h.Write([]byte{'t'})
		} else {
			h.Write([]byte{'f'})
		}
	case ty.IsListType() || ty.IsTupleType() || ty.IsSetType() || ty.IsMapType() || ty.IsObjectType():
		h.Write([]byte{'['})
		refLen(h, v.LengthInt())
		keyed := ty.IsMapType() || ty.IsObjectType()
		for it := v.ElementIterator(); it.Next(); {
			k, e := it.Element()
			if keyed {
				refString(h, k.AsString())
			}
			if !refValue(h, e) {
				return false
			}
		}
	default:
		h.Write([]byte{'?'})
		refString(h, ty.FriendlyName())
	}
	return true
}

func TestDigestMatchesReferenceEncoding(t *testing.T) {
	third, _ := new(big.Float).SetString("0.333333333333333333333")
	vals := []cty.Value{
		cty.NullVal(cty.String),
		cty.StringVal(""),
		cty.StringVal("echo ${x} ü \x00"),
		cty.NumberIntVal(-42),
		cty.NumberVal(third),
		cty.True, cty.False,
		cty.EmptyObjectVal,
		cty.ListValEmpty(cty.String),
		cty.ListVal([]cty.Value{cty.StringVal("a"), cty.StringVal("b")}),
		cty.SetVal([]cty.Value{cty.StringVal("z"), cty.StringVal("a")}),
		cty.TupleVal([]cty.Value{cty.StringVal("a"), cty.NumberIntVal(1), cty.NullVal(cty.Bool)}),
		cty.MapVal(map[string]cty.Value{"b": cty.StringVal("2"), "a": cty.StringVal("1")}),
		cty.ObjectVal(map[string]cty.Value{
			"command": cty.StringVal("mkfs.xfs /dev/vdb"),
			"env":     cty.MapVal(map[string]cty.Value{"A": cty.StringVal("1")}),
			"creates": cty.NullVal(cty.String),
			"nested": cty.ObjectVal(map[string]cty.Value{
				"zz": cty.ListVal([]cty.Value{cty.ObjectVal(map[string]cty.Value{"k": cty.True})}),
				"aa": cty.StringVal("x").Mark("sensitive"),
			}),
		}),
		cty.DynamicVal,
		cty.ObjectVal(map[string]cty.Value{"ok": cty.StringVal("x"), "later": cty.UnknownVal(cty.String)}),
		cty.ListVal([]cty.Value{cty.UnknownVal(cty.String)}),
	}
	for _, v := range vals {
		got, gok := Digest("run", v, "server[1]", "id-1")
		want, wok := refDigest("run", v, "server[1]", "id-1")
		if got != want || gok != wok {
			t.Errorf("%#v: Digest = %q,%v; reference = %q,%v", v, got, gok, want, wok)
		}
	}
	a, _ := Digest("run", cty.StringVal("a"), "h", "")
	b, _ := Digest("run", cty.StringVal("b"), "h", "")
	if a == b {
		t.Errorf("different arguments, same digest %s", a)
	}
}
