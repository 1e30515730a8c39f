package engine_test

import (
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"

	"diffuser/engine"
	"diffuser/lang"
	"diffuser/recipes"
)

// TestRecipeModulesRefuseBadInputs: the built-in recipes' own modules
// (ceph/modules/*, moosefs/modules/*), called from a recipe with inputs
// they must refuse, fail at load with the module's message instead of
// writing a broken file or a shell command out of the input.
func TestRecipeModulesRefuseBadInputs(t *testing.T) {
	const hosts = "recipe \"t\" {}\nhosts \"h\" { count = 1 }\n"
	for _, tc := range []struct {
		name, module, call, want string
	}{
		{"dropin unit with shell", "ceph/modules/dropin", `unit = "x; rm -rf /"
  content = "[Service]\n"`, `input unit is "x; rm -rf /"; it must be a string matching the pattern`},
		{"dropin unit with space", "ceph/modules/dropin", `unit = "a b"
  content = "[Service]\n"`, `input unit is "a b"; it must be`},
		{"dropin content ends the here-document", "ceph/modules/dropin", `unit = "x@"
  content = "[Service]\nUNIT\nExecStart=/bin/false\n"`, "no line reading UNIT"},
		{"dropin content without a final newline", "ceph/modules/dropin", `unit = "x@"
  content = "[Service]"`, "must end in a newline"},
		{"ceph daemon of an unknown type", "ceph/modules/daemon", `type = "osd"`, "Invalid index"},
		{"moosefs daemon of an unknown name", "moosefs/modules/daemon", `hosts = hosts.h
  name = "mfsmount"
  config = "x"`, `input name is "mfsmount"; it must be one of "master", "metalogger", "chunkserver"`},
		{"moosefs daemon's second file without content", "moosefs/modules/daemon", `hosts = hosts.h
  name = "master"
  config = "x"
  also = { path = "/etc/mfs/mfsexports.cfg" }`, `attribute "content" is required`},
		{"orangefs build without its prefix", "orangefs/modules/build", `build = { source_url = "http://x/o.tar.gz", sha256 = "", cflags = "", fuse = false }`, `attribute "prefix" is required`},
		{"ceph-conf keyring path with shell", "builtin/ceph-conf", `conf = "[global]\n"
  keyring_path = "/etc/ceph/k; rm -rf /"
  keyring = "k"`, `input keyring_path is "/etc/ceph/k; rm -rf /"; it must be`},
		{"ceph-conf relative keyring path", "builtin/ceph-conf", `conf = "[global]\n"
  keyring_path = "ceph.keyring"
  keyring = "k"`, `input keyring_path is "ceph.keyring"; it must be`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fsys := fstest.MapFS{"r/main.hcl": {Data: []byte(hosts + "module \"m\" {\n  source = \"./modules/x\"\n  on = hosts.h\n  " + tc.call + "\n}\n")}}
			src, err := moduleSource(tc.module)
			if err != nil {
				t.Fatal(err)
			}
			fsys["r/modules/x/main.hcl"] = &fstest.MapFile{Data: src}
			_, diags := engine.Load(lang.Source{FS: fsys, Dir: "r", Display: "r", Modules: recipes.Modules()}, lang.Inputs{}, simKinds)
			if !diags.HasErrors() || !strings.Contains(diags.Error(), tc.want) {
				t.Fatalf("want an error with %q, got %v", tc.want, diags)
			}
		})
	}
	// The same modules with good inputs load.
	for module, call := range map[string]string{
		"ceph/modules/dropin":    "unit = \"ceph-osd@\"\n  content = \"[Service]\\n\"",
		"ceph/modules/daemon":    `type = "mds"`,
		"builtin/ceph-conf":      "conf = \"[global]\\n\"\n  keyring_path = \"/etc/ceph/k\"\n  keyring = \"k\"",
		"orangefs/modules/build": "build = { source_url = \"http://x/o.tar.gz\", sha256 = \"\", cflags = \"-O2\", fuse = true, prefix = \"/opt/orangefs\" }",
		"moosefs/modules/daemon": "hosts = hosts.h\n  name = \"metalogger\"\n  config = \"x\"",
	} {
		fsys := fstest.MapFS{"r/main.hcl": {Data: []byte(hosts + "module \"m\" {\n  source = \"./modules/x\"\n  on = hosts.h\n  " + call + "\n}\n")}}
		src, err := moduleSource(module)
		if err != nil {
			t.Fatal(err)
		}
		fsys["r/modules/x/main.hcl"] = &fstest.MapFile{Data: src}
		if _, diags := engine.Load(lang.Source{FS: fsys, Dir: "r", Display: "r", Modules: recipes.Modules()}, lang.Inputs{}, simKinds); diags.HasErrors() {
			t.Errorf("%s with good inputs: %s", module, diags.Error())
		}
	}
}

// moduleSource reads a built-in recipe's module ("ceph/modules/dropin") or
// a standard library one ("builtin/ceph-conf").
func moduleSource(name string) ([]byte, error) {
	if lib, ok := strings.CutPrefix(name, "builtin/"); ok {
		return fs.ReadFile(recipes.Modules(), lib+"/main.hcl")
	}
	return fs.ReadFile(recipes.FS(), name+"/main.hcl")
}
