package lang

import (
	"testing"

	"github.com/hashicorp/hcl/v2"
)

// TestMovedReason: every move names the block that makes it — the
// recipe's own, a module's own, or a module's history of its caller.
func TestMovedReason(t *testing.T) {
	at := hcl.Range{Filename: "r/main.hcl", Start: hcl.Pos{Line: 7, Column: 1}}
	mod := &Module{Addr: "module.data", Source: "builtin/xfs-volume"}
	for _, c := range []struct {
		mv   Moved
		want string
	}{
		{Moved{DeclRange: at}, "moved block, r/main.hcl:7"},
		{Moved{DeclRange: at, In: mod}, "moved block of module.data, r/main.hcl:7"},
		{Moved{DeclRange: at, In: mod, By: mod}, "history of module.data (builtin/xfs-volume), r/main.hcl:7"},
	} {
		if got := c.mv.Reason(); got != c.want {
			t.Errorf("Reason() = %q, want %q", got, c.want)
		}
	}
}
