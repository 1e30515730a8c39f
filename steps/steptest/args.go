package steptest

import (
	"fmt"

	"github.com/hashicorp/hcl/v2/hcldec"
	hcljson "github.com/hashicorp/hcl/v2/json"
	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"
)

// DecodeArgs decodes a kind block written in HCL's JSON syntax with the
// kind's Spec, as the recipe loader decodes a step's kind block: required
// attributes, unknown attributes, type conversion and defaults are checked
// and applied.
func DecodeArgs(spec hcldec.Spec, src []byte) (cty.Value, error) {
	f, diags := hcljson.Parse(src, "args.json")
	if diags.HasErrors() {
		return cty.NilVal, fmt.Errorf("parsing args: %w", diags)
	}
	v, diags := hcldec.Decode(f.Body, spec, nil)
	if diags.HasErrors() {
		return cty.NilVal, fmt.Errorf("decoding args: %w", diags)
	}
	return v, nil
}

// RawArgs converts a JSON object to the Spec's implied object type without
// hcldec: attributes left out are null and no default applies. This is what
// the loader's shorthands (package = [...], run = "...") produce.
func RawArgs(spec hcldec.Spec, src []byte) (cty.Value, error) {
	v, err := ctyjson.Unmarshal(src, hcldec.ImpliedType(spec))
	if err != nil {
		return cty.NilVal, fmt.Errorf("converting args: %w", err)
	}
	return v, nil
}
