package lang_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/zclconf/go-cty/cty"

	"diffuser/lang"
)

func loadSiteText(t *testing.T, src string) (*lang.Site, string) {
	t.Helper()
	p := filepath.Join(t.TempDir(), "site.hcl")
	if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	s, diags := lang.LoadSite(p)
	var msgs []string
	for _, d := range diags {
		line := d.Summary + ": " + d.Detail
		if d.Subject != nil {
			line = d.Subject.String() + ": " + line
		}
		msgs = append(msgs, line)
	}
	return s, strings.Join(msgs, "\n")
}

// TestSiteGroups: top-level hosts blocks and provider aliases, as
// Terraform writes them, and their settings per alias.
func TestSiteGroups(t *testing.T) {
	s, errs := loadSiteText(t, `
ttl = "7d"
provider "aws" {
  alias  = "east"
  region = "us-east-1"
  hosts "server" { instance_type = "m7g.large" }
}
provider "aws" {
  alias  = "west"
  region = "us-west-2"
}
provider "aws" {
  region = "eu-west-1"
}
hosts "server" { provider = aws.east }
hosts "client" { provider = "aws.west" }
hosts "lab"    { provider = static }
`)
	if errs != "" {
		t.Fatal(errs)
	}
	if s.TTL != 7*24*time.Hour {
		t.Errorf("ttl %v", s.TTL)
	}
	for group, want := range map[string]string{"server": "aws.east", "client": "aws.west", "lab": "static", "other": "docker"} {
		if got := s.ProviderKey(group, "docker"); got != want {
			t.Errorf("%s: provider %q, want %q", group, got, want)
		}
	}
	if len(s.Providers) != 3 || s.Providers["aws.east"].Alias != "east" || s.Providers["aws"].Key != "aws" {
		t.Fatalf("providers %v", s.Providers)
	}
	v, d := s.Providers["aws.east"].Settings(testProviderSpec(), "server")
	if d.HasErrors() || v.GetAttr("region") != cty.StringVal("us-east-1") || v.GetAttr("instance_type") != cty.StringVal("m7g.large") {
		t.Fatalf("aws.east server settings %#v %v", v, d)
	}
	if v, _ := s.Providers["aws.west"].Settings(testProviderSpec(), "client"); v.GetAttr("region") != cty.StringVal("us-west-2") {
		t.Fatalf("aws.west settings %#v", v)
	}
}

func TestSiteGroupsInvalid(t *testing.T) {
	for _, c := range []struct{ src, want string }{
		{`hosts "a" { provider = aws.east }`, `Unknown provider alias`},
		{`hosts "a" {}`, `Missing required argument`},
		{`hosts "a" { provider = aws.east.x }`, `Invalid provider reference`},
		{`hosts "a" { provider = aws["x"] }`, `Invalid provider reference`},
		{`hosts "a" { provider = "" }`, `Invalid provider reference`},
		{`hosts "a" { provider = "$(reboot)" }`, `Invalid provider reference`},
		{`hosts "a" { provider = 3 }`, `Invalid provider reference`},
		{"hosts \"a\" {\n  provider = static\n  addresses = [\"x\"]\n}", `Put the group's settings in that provider's block`},
		{"hosts \"a\" { provider = static }\nhosts \"a\" { provider = docker }", `Duplicate hosts block`},
		{"provider \"aws\" { alias = \"e\" }\nprovider \"aws\" { alias = \"e\" }", `Duplicate provider block`},
		{`provider "aws" { alias = "1east" }`, `Invalid provider alias`},
		{`provider "aws" { alias = "" }`, `Invalid provider alias`},
		{`provider "aws" { alias = var.x }`, `Variables not allowed`},
		{`ttl = "forever"`, `Invalid ttl`},
		{`ttl = "10s"`, `at least 1m`},
		{`ttl = "400d"`, `at most 366d`},
		{`ttl = 4`, `Invalid ttl`},
	} {
		_, errs := loadSiteText(t, c.src)
		if !strings.Contains(errs, c.want) {
			t.Errorf("%s:\n got %q\nwant %q", c.src, errs, c.want)
		}
	}
}
