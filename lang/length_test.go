package lang

import (
	"testing"

	"github.com/zclconf/go-cty/cty"
)

// TestLengthOfStrings: length counts a string's characters, as Terraform's
// does, and a collection's elements; a sensitive argument stays sensitive.
func TestLengthOfStrings(t *testing.T) {
	for _, c := range []struct {
		in   cty.Value
		want int64
	}{
		{cty.StringVal("pw1-6f40"), 8},
		{cty.StringVal("héllo"), 5},
		{cty.ListVal([]cty.Value{cty.StringVal("a"), cty.StringVal("b")}), 2},
		{cty.MapValEmpty(cty.String), 0},
	} {
		got, err := lengthFunc.Call([]cty.Value{c.in})
		if err != nil || !got.RawEquals(cty.NumberIntVal(c.want)) {
			t.Errorf("length(%#v) = %#v, %v; want %d", c.in, got, err, c.want)
		}
	}
	got, err := lengthFunc.Call([]cty.Value{cty.StringVal("secret").Mark("sensitive")})
	if err != nil || !got.HasMark("sensitive") {
		t.Errorf("length of a sensitive string: %#v, %v (want a sensitive 6)", got, err)
	}
	if _, err := lengthFunc.Call([]cty.Value{cty.True}); err == nil {
		t.Error("length(true) accepted")
	}
}
