package ctypath

import (
	"testing"

	"github.com/zclconf/go-cty/cty"
)

func TestString(t *testing.T) {
	for want, p := range map[string]cty.Path{
		"":                            nil,
		"groups.server.instance_type": cty.GetAttrPath("groups").GetAttr("server").GetAttr("instance_type"),
		"addresses[2]":                cty.GetAttrPath("addresses").IndexInt(2),
		`volumes["brick"].size`:       cty.GetAttrPath("volumes").IndexString("brick").GetAttr("size"),
		`[1]["a\x00b"]`:               cty.IndexIntPath(1).IndexString("a\x00b"),
	} {
		if got := String(p); got != want {
			t.Errorf("String(%#v) = %q, want %q", p, got, want)
		}
	}
}
