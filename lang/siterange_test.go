package lang_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"diffuser/lang"

	"github.com/zclconf/go-cty/cty"
)

const rangeSite = `provider "p" {
  port      = 22
  addresses = ["10.0.0.1", "10.0.0.2"]
  groups = {
    server = { image = "x" }
  }
  hosts "server" {
    port    = 2222
    volumes = { brick = "sdb", logs = "/dev/sdc" }
  }
  hosts "clinet" {
  }
}
`

// TestSettingRange: a setting's range is the group block's attribute when
// it overrides, else the provider-wide one, narrowed to a literal list or
// map element; a setting nobody writes has none.
func TestSettingRange(t *testing.T) {
	path := filepath.Join(t.TempDir(), "site.hcl")
	if err := os.WriteFile(path, []byte(rangeSite), 0o600); err != nil {
		t.Fatal(err)
	}
	site, diags := lang.LoadSite(path)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	pb := site.Providers["p"]
	text := func(group string, p cty.Path) string {
		rng, ok := pb.SettingRange(group, p)
		if !ok {
			return "-"
		}
		return fmt.Sprintf("%d:%s", rng.Start.Line, rangeSite[rng.Start.Byte:rng.End.Byte])
	}
	attr := cty.GetAttrPath
	for _, tc := range []struct {
		group string
		path  cty.Path
		want  string
	}{
		{"server", attr("port"), "8:2222"},
		{"client", attr("port"), "2:22"},
		{"", attr("port"), "2:22"},
		{"client", attr("addresses").Index(cty.NumberIntVal(1)), `3:"10.0.0.2"`},
		{"client", attr("addresses").Index(cty.NumberIntVal(7)), `3:["10.0.0.1", "10.0.0.2"]`},
		{"server", attr("volumes").Index(cty.StringVal("brick")), `9:"sdb"`},
		{"server", attr("groups").Index(cty.StringVal("server")).Index(cty.StringVal("image")), `5:"x"`},
		{"server", attr("user"), "-"},
		{"server", nil, "-"},
	} {
		if got := text(tc.group, tc.path); got != tc.want {
			t.Errorf("SettingRange(%q, %#v) = %s, want %s", tc.group, tc.path, got, tc.want)
		}
	}
	if rng, ok := pb.BlockRange("server"); !ok || rng.Start.Line != 7 {
		t.Errorf("BlockRange(server) = %v", rng)
	}
	if rng, ok := pb.BlockRange("client"); !ok || rng.Start.Line != 1 {
		t.Errorf("BlockRange(client) = %v, want the provider block", rng)
	}
	var none *lang.ProviderBlock
	if _, ok := none.BlockRange("x"); ok {
		t.Error("a nil provider block has a range")
	}
	warn := pb.UnknownGroups([]string{"server", "client"})
	if len(warn) != 1 || warn[0].Subject.Start.Line != 11 || !strings.Contains(warn[0].Detail, `Did you mean "client"?`) {
		t.Errorf("UnknownGroups: %v", warn)
	}
	if w := pb.UnknownGroups([]string{"mon", "osd"}); len(w) != 0 {
		t.Errorf("a block for another recipe's group warned: %v", w)
	}
}
