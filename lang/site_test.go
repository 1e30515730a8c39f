package lang_test

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"diffuser/lang"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hcldec"
	"github.com/zclconf/go-cty/cty"
)

// testProviderSpec stands in for a provider's settings spec.
func testProviderSpec() hcldec.ObjectSpec {
	return hcldec.ObjectSpec{
		"region":        &hcldec.AttrSpec{Name: "region", Type: cty.String, Required: true},
		"instance_type": &hcldec.AttrSpec{Name: "instance_type", Type: cty.String},
		"image":         &hcldec.AttrSpec{Name: "image", Type: cty.String},
		"disk_gb": &hcldec.DefaultSpec{
			Primary: &hcldec.AttrSpec{Name: "disk_gb", Type: cty.Number},
			Default: &hcldec.LiteralSpec{Value: cty.NumberIntVal(10)},
		},
	}
}

func loadVarsRecipe(t *testing.T) *lang.Recipe {
	t.Helper()
	r, diags := lang.Load(lang.Source{FS: os.DirFS("testdata/varfiles"), Dir: ".", File: "recipe.hcl", Display: "testdata/varfiles"}, testKinds())
	if diags.HasErrors() {
		t.Fatalf("Load:%s", diagString(diags))
	}
	return r
}

func TestSiteSettings(t *testing.T) {
	site, diags := lang.LoadSite("testdata/site/ok.hcl")
	if diags.HasErrors() {
		t.Fatalf("LoadSite:%s", diagString(diags))
	}
	if site.DefaultProvider != "cloud" {
		t.Errorf("DefaultProvider = %q, want cloud", site.DefaultProvider)
	}
	if site.KeepRuns == nil || *site.KeepRuns != 5 {
		t.Errorf("KeepRuns = %v, want 5", site.KeepRuns)
	}
	var names []string
	for n := range site.Providers {
		names = append(names, n)
	}
	sort.Strings(names)
	if strings.Join(names, ",") != "cloud,static" {
		t.Errorf("providers = %v, want [cloud static]", names)
	}
	cloud := site.Providers["cloud"]
	get := func(group string) map[string]cty.Value {
		t.Helper()
		v, diags := cloud.Settings(testProviderSpec(), group)
		if diags.HasErrors() {
			t.Fatalf("Settings(%q):%s", group, diagString(diags))
		}
		return v.AsValueMap()
	}
	base := get("")
	for k, want := range map[string]cty.Value{
		"region": cty.StringVal("eu-west-1"), "instance_type": cty.StringVal("t3.small"),
		"image": cty.StringVal("ami-0123456789abcdef0"), "disk_gb": cty.NumberIntVal(8),
	} {
		if !base[k].RawEquals(want) {
			t.Errorf("provider-wide %s = %#v, want %#v", k, base[k], want)
		}
	}
	// The server override changes what it sets and keeps the rest,
	// including the required region it does not repeat.
	server := get("server")
	for k, want := range map[string]cty.Value{
		"region": cty.StringVal("eu-west-1"), "instance_type": cty.StringVal("m5.large"),
		"image": cty.StringVal("ami-0123456789abcdef0"), "disk_gb": cty.NumberIntVal(100),
	} {
		if !server[k].RawEquals(want) {
			t.Errorf("server %s = %#v, want %#v", k, server[k], want)
		}
	}
	// A group without override block gets the provider-wide settings.
	if client := get("client"); !cty.ObjectVal(client).RawEquals(cty.ObjectVal(base)) {
		t.Errorf("client settings = %#v, want the provider-wide %#v", client, base)
	}
	// A provider the site does not configure decodes as all defaults.
	var none *lang.ProviderBlock
	v, diags := none.Settings(hcldec.ObjectSpec{"disk_gb": testProviderSpec()["disk_gb"]}, "server")
	if diags.HasErrors() || !v.GetAttr("disk_gb").RawEquals(cty.NumberIntVal(10)) {
		t.Errorf("nil provider settings = %#v,%s; want disk_gb 10", v, diagString(diags))
	}
}

// TestSiteOverrideKeepsProviderWideDefault guards the merge: an attribute
// a hosts block leaves out keeps the provider-wide value, not the spec's
// default.
func TestSiteOverrideKeepsProviderWideDefault(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "diffuser.hcl")
	src := "provider \"cloud\" {\n  region  = \"r\"\n  disk_gb = 50\n  hosts \"server\" {\n    image = \"x\"\n  }\n}\n"
	if err := os.WriteFile(p, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	site, diags := lang.LoadSite(p)
	if diags.HasErrors() {
		t.Fatalf("LoadSite:%s", diagString(diags))
	}
	v, diags := site.Providers["cloud"].Settings(testProviderSpec(), "server")
	if diags.HasErrors() {
		t.Fatalf("Settings:%s", diagString(diags))
	}
	if got := v.GetAttr("disk_gb"); !got.RawEquals(cty.NumberIntVal(50)) {
		t.Errorf("server disk_gb = %#v, want the provider-wide 50", got)
	}
	if got := v.GetAttr("image"); !got.RawEquals(cty.StringVal("x")) {
		t.Errorf("server image = %#v, want x", got)
	}
}

// TestSiteVariables checks that site values reach the recipe's variables.
func TestSiteVariables(t *testing.T) {
	site, diags := lang.LoadSite("testdata/site/ok.hcl")
	if diags.HasErrors() {
		t.Fatalf("LoadSite:%s", diagString(diags))
	}
	vals, diags := loadVarsRecipe(t).ResolveVariables(lang.Inputs{Site: site})
	if diags.HasErrors() {
		t.Fatalf("ResolveVariables:%s", diagString(diags))
	}
	if !vals["servers"].RawEquals(cty.NumberIntVal(4)) || !vals["volume_name"].RawEquals(cty.StringVal("site")) {
		t.Errorf("servers, volume_name = %#v, %#v; want 4, site", vals["servers"], vals["volume_name"])
	}
}

// loadSiteStages runs what the CLI does with a site file, stopping at the
// first stage with errors: LoadSite, every provider's settings (and the
// `# GROUP:` override), the recipe's variables.
func loadSiteStages(t *testing.T, file string, group string) hcl.Diagnostics {
	site, diags := lang.LoadSite(file)
	if diags.HasErrors() {
		if site == nil || site.Files[file] == nil {
			t.Errorf("Site.Files lacks %s: the CLI could not show the offending line", file)
		}
		return diags
	}
	var names []string
	for n := range site.Providers {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		_, d := site.Providers[n].Settings(testProviderSpec(), group)
		diags = append(diags, d...)
	}
	if diags.HasErrors() {
		return diags
	}
	_, d := loadVarsRecipe(t).ResolveVariables(lang.Inputs{Site: site})
	return append(diags, d...)
}

func TestInvalidSiteFiles(t *testing.T) {
	names, err := filepath.Glob("testdata/site/bad/*.hcl")
	if err != nil || len(names) < 15 {
		t.Fatalf("site corpus: %d files, %v", len(names), err)
	}
	for _, name := range names {
		t.Run(strings.TrimSuffix(filepath.Base(name), ".hcl"), func(t *testing.T) {
			src, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			cf := parseCorpusFile(t, name, src)
			checkMarkers(t, loadSiteStages(t, name, cf.Group), name, cf.Markers)
		})
	}
}

func TestSiteFileNotText(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name    string
		data    []byte
		summary string
		line    int
	}{
		{"nul.hcl", []byte("provider \"cloud\" {\n  region = \"a\x00b\"\n}\n"), "Binary file", 2},
		{"huge.hcl", []byte(strings.Repeat("# padding\n", lang.MaxFileSize/10+1)), "File too large", 1},
	} {
		p := filepath.Join(dir, tc.name)
		if err := os.WriteFile(p, tc.data, 0o600); err != nil {
			t.Fatal(err)
		}
		_, diags := lang.LoadSite(p)
		checkMarkers(t, diags, p, []marker{{Line: tc.line, Summary: tc.summary}})
	}
	_, diags := lang.LoadSite(filepath.Join(dir, "missing.hcl"))
	if errs := errorsOf(diags); len(errs) != 1 || errs[0].Summary != "Cannot read site file" || !strings.Contains(errs[0].Detail, "missing.hcl") {
		t.Errorf("missing site file:%s", diagString(diags))
	}
}
