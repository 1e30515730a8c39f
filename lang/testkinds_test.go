package lang_test

import (
	"testing"

	"diffuser/engine"
	"diffuser/steps/builtin"

	"github.com/hashicorp/hcl/v2/hcldec"
)

// TestTestKindsMatchBuiltins: the specs lang's tests load recipes with
// decode what the real kinds decode, so that a corpus case lang accepts
// is one the engine decodes too (and only the kinds' rules, in the
// engine, refuse it).
func TestTestKindsMatchBuiltins(t *testing.T) {
	real := engine.KindSpecs(builtin.Kinds())
	for name, spec := range testKinds() {
		want, ok := real[name]
		if !ok {
			t.Errorf("testKinds has %s, the built-in kinds do not", name)
			continue
		}
		if got, want := hcldec.ImpliedType(spec), hcldec.ImpliedType(want); !got.Equals(want) {
			t.Errorf("%s: testKinds decodes %s, the kind %s", name, got.FriendlyName(), want.FriendlyName())
		}
	}
	for name := range real {
		if _, ok := testKinds()[name]; !ok {
			t.Errorf("testKinds lacks the built-in kind %s", name)
		}
	}
}
