package views

import (
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// verify that checked nothing says why: no verify block, or all off.
func TestNothingVerified(t *testing.T) {
	if s := NothingVerified(0); !strings.Contains(s, "has no verify block") || !strings.Contains(s, "#verify") {
		t.Errorf("no blocks: %q", s)
	}
	if s := NothingVerified(2); !strings.Contains(s, "every one of the recipe's 2 verify block(s) is turned off") {
		t.Errorf("two blocks off: %q", s)
	}
}

// The block NothingVerified suggests is HCL that parses (a one-line
// block with two attributes does not).
func TestNothingVerifiedExampleParses(t *testing.T) {
	s := NothingVerified(0)
	if !strings.Contains(s, verifyExample) {
		t.Fatalf("no example in %q", s)
	}
	if _, diags := hclsyntax.ParseConfig([]byte(verifyExample), "example.hcl", hcl.InitialPos); diags.HasErrors() {
		t.Errorf("the example does not parse: %s", diags.Error())
	}
}
