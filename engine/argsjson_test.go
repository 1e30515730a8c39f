package engine

import (
	"bytes"
	"math/big"
	"testing"

	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"
)

func TestEncodeArgsJSONMatchesCtyJSON(t *testing.T) {
	third, _ := new(big.Float).SetString("0.333333333333333333333")
	vals := []cty.Value{
		cty.NullVal(cty.String),
		cty.NullVal(cty.DynamicPseudoType),
		cty.StringVal("echo <a> && b \"q\" \\ \n ü \u2028 \x01"),
		cty.NumberIntVal(-42),
		cty.NumberFloatVal(1e21),
		cty.NumberFloatVal(0.5),
		cty.NumberVal(third),
		cty.True, cty.False,
		cty.EmptyObjectVal,
		cty.EmptyTupleVal,
		cty.ListValEmpty(cty.String),
		cty.ListVal([]cty.Value{cty.StringVal("a"), cty.NullVal(cty.String)}),
		cty.SetVal([]cty.Value{cty.StringVal("z"), cty.StringVal("a")}),
		cty.SetVal([]cty.Value{cty.NumberIntVal(10), cty.NumberIntVal(2)}),
		cty.TupleVal([]cty.Value{cty.StringVal("a"), cty.NumberIntVal(1), cty.NullVal(cty.Bool)}),
		cty.MapVal(map[string]cty.Value{"b<": cty.StringVal("2"), "a": cty.StringVal("1")}),
		cty.ObjectVal(map[string]cty.Value{
			"command": cty.StringVal("mkfs.xfs /dev/vdb"),
			"env":     cty.MapVal(map[string]cty.Value{"A": cty.StringVal("1")}),
			"creates": cty.NullVal(cty.String),
			"retries": cty.NumberIntVal(3),
			"nested": cty.ObjectVal(map[string]cty.Value{
				"zz": cty.ListVal([]cty.Value{cty.ObjectVal(map[string]cty.Value{"k": cty.True})}),
				"aa": cty.NullVal(cty.List(cty.String)),
			}),
		}),
	}
	for _, v := range vals {
		_, got, _, _ := encodeArgs("run", v, "h", "")
		want, werr := ctyjson.Marshal(v, v.Type())
		if werr != nil {
			t.Fatalf("%#v: %v", v, werr)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%#v:\n got %s\nwant %s", v, got, want)
		}
	}
	// Marked values are encoded unmarked, and reported; unknowns are not
	// encoded; infinity, which JSON cannot hold, is digested but not
	// encoded.
	marked := cty.ObjectVal(map[string]cty.Value{"a": cty.StringVal("x").Mark("sensitive"), "b": cty.NumberIntVal(1)})
	if _, js, known, m := encodeArgs("run", marked, "h", ""); !known || !m || string(js) != `{"a":"x","b":1}` {
		t.Errorf("marked value: json %s, known %v, marked %v", js, known, m)
	}
	if _, js, known, _ := encodeArgs("run", cty.ListVal([]cty.Value{cty.UnknownVal(cty.String)}), "h", ""); known || js != nil {
		t.Errorf("unknown value: json %s, known %v", js, known)
	}
	if dg, js, known, _ := encodeArgs("run", cty.PositiveInfinity, "h", ""); !known || dg == "" || js != nil {
		t.Errorf("infinity: digest %q, json %s, known %v", dg, js, known)
	}
	// The digest is the same with or without the JSON.
	for _, v := range vals {
		a, _ := Digest("run", v, "h", "p")
		b, _, _, _ := encodeArgs("run", v, "h", "p")
		if a != b {
			t.Errorf("%#v: Digest %s, encodeArgs %s", v, a, b)
		}
	}
}
