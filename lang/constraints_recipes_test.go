package lang_test

import (
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"

	"diffuser/lang"
	"diffuser/recipes"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// oracleCase is one built-in variable whose validation block became
// constraints: old is the condition it had (reading var.NAME), kept here
// as the oracle (counts since refuse fractions at the variable: integer =
// true, where a count of 1.5 hosts failed later at the hosts block); ok and bad are values in HCL syntax the old condition
// accepted and refused. The variable as declared today must agree.
type oracleCase struct {
	file, name, typ, old string
	ok, bad              []string
}

const absPathOld = `can(regex("^(/[a-zA-Z0-9._-]+)+$", var.v))`

var oracleCases = []oracleCase{
	{"ceph/main.hcl", "osds", "number", `var.v >= 1 && floor(var.v) == var.v`, []string{"1", "3"}, []string{"0", "-1", "0.5", "1.5"}},
	{"ceph/main.hcl", "osd_size_gb", "number", `var.v >= 4`, []string{"4", "100"}, []string{"3", "3.9", "0"}},
	{"ceph/main.hcl", "osd_memory_mb", "number", `var.v >= 896`, []string{"896", "4096"}, []string{"895", "0"}},
	{"ceph/main.hcl", "fs_name", "string", `can(regex("^[a-zA-Z][a-zA-Z0-9_]*$", var.v))`,
		[]string{`"cephfs"`, `"a"`, `"Fs_2"`}, []string{`""`, `"2fs"`, `"my-fs"`, `"_x"`, `"a b"`, `"fs\n"`}},
	{"ceph/main.hcl", "client_id", "string", `can(regex("^[a-zA-Z][a-zA-Z0-9_]*$", var.v)) && var.v != "admin"`,
		[]string{`"fsclient"`, `"Admin"`, `"admin2"`}, []string{`"admin"`, `""`, `"9x"`, `"fs-client"`}},
	{"ceph/main.hcl", "mount_path", "string", `can(regex("^(/[a-zA-Z0-9_][a-zA-Z0-9_.]*)+$", var.v))`,
		[]string{`"/mnt/cephfs"`, `"/a"`, `"/a/b.c/_d"`}, []string{`"/mnt/ceph-fs"`, `"/mnt/.x"`, `"/mnt/"`, `"mnt"`, `""`, `"/"`}},
	{"ceph/main.hcl", "client_mount", "string", `contains(["fuse", "kernel"], var.v)`,
		[]string{`"fuse"`, `"kernel"`}, []string{`"FUSE"`, `""`, `"nfs"`}},
	{"ceph/main.hcl", "public_network", "string", `var.v == "" || can(cidrhost(var.v, 0))`,
		[]string{`""`, `"10.0.0.0/16"`, `"192.168.1.0/24"`, `"fd00::/64"`, `"10.0.0.1/32"`}, []string{`"10.0.0.0"`, `"10.0.0.0/33"`, `"x"`, `" "`}},
	{"ceph/main.hcl", "s3_gateways", "number", `var.v >= 0 && floor(var.v) == var.v`, []string{"0", "1", "7"}, []string{"-1", "0.5", "1.5"}},
	{"ceph/main.hcl", "nfs_gateways", "number", `var.v >= 0 && floor(var.v) == var.v`, []string{"0", "2"}, []string{"-1", "-0.5", "0.5"}},
	{"ceph/main.hcl", "smb_gateways", "number", `var.v >= 0`, []string{"0", "2"}, []string{"-1"}},
	{"ceph/main.hcl", "gateway_clients", "number", `var.v >= 0`, []string{"0", "2"}, []string{"-1"}},
	{"glusterfs/main.hcl", "servers", "number", `var.v >= 1`, []string{"1", "2", "100"}, []string{"0", "-2"}},
	{"glusterfs/main.hcl", "replica", "number", `var.v >= 1 && var.v <= 3 && floor(var.v) == var.v`, []string{"1", "2", "3"}, []string{"0", "4", "3.5", "2.5"}},
	{"glusterfs/main.hcl", "disperse_redundancy", "number", `var.v >= 1`, []string{"1", "2"}, []string{"0"}},
	{"glusterfs/main.hcl", "volume_name", "string", `can(regex("^[a-zA-Z][a-zA-Z0-9_-]*$", var.v))`,
		[]string{`"gv0"`, `"a-b_c"`}, []string{`""`, `"0gv"`, `"-a"`, `"a b"`, `"a/b"`}},
	{"glusterfs/main.hcl", "nfs_gateways", "number", `var.v >= 0`, []string{"0", "1"}, []string{"-1"}},
	{"glusterfs/main.hcl", "smb_gateways", "number", `var.v >= 0`, []string{"0", "1"}, []string{"-1"}},
	{"glusterfs/main.hcl", "gateway_clients", "number", `var.v >= 0`, []string{"0", "3"}, []string{"-1"}},
	{"moosefs/main.hcl", "chunkservers", "number", `var.v >= 1`, []string{"1", "3"}, []string{"0"}},
	{"moosefs/main.hcl", "goal", "number", `var.v >= 1 && var.v <= 9`, []string{"1", "9", "2"}, []string{"0", "10", "9.5"}},
	{"moosefs/main.hcl", "metaloggers", "number", `var.v >= 0`, []string{"0", "1"}, []string{"-1"}},
	{"moosefs/main.hcl", "allowed_network", "string", `var.v == "" || can(regex("^([*]|[0-9.]+(/[0-9]+)?|[0-9.]+-[0-9.]+)$", var.v))`,
		[]string{`""`, `"*"`, `"10.0.0.0/16"`, `"10.0.0.1"`, `"10.0.0.1-10.0.0.9"`}, []string{`"**"`, `"a"`, `"10.0.0.0/"`, `"10.0.0.1-"`, `" "`, `"*/8"`}},
	{"nfs/main.hcl", "server", "string", `contains(["kernel", "ganesha"], var.v)`, []string{`"kernel"`, `"ganesha"`}, []string{`"nfsd"`, `""`}},
	{"nfs/main.hcl", "mount", "string", `contains(["kernel", "libnfs"], var.v)`, []string{`"kernel"`, `"libnfs"`}, []string{`"fuse"`}},
	{"nfs/main.hcl", "clients", "number", `var.v >= 0`, []string{"0", "2"}, []string{"-1"}},
	{"nfs/main.hcl", "export_size_gb", "number", `var.v >= 1`, []string{"1", "2"}, []string{"0", "0.5"}},
	{"nfs/main.hcl", "export_path", "string", absPathOld,
		[]string{`"/srv/nfs"`, `"/a"`, `"/a/b.c/d_e-f"`, `"/a/../b"`}, []string{`"srv"`, `"/srv/"`, `"/"`, `""`, `"/a b"`, `"/a//b"`, `"/a@b"`, `"/a\n"`}},
	{"nfs/main.hcl", "export_to", "list(string)", `length([for c in var.v : c if !can(regex("^[a-zA-Z0-9.:/*_-]+$", c))]) == 0`,
		[]string{`[]`, `["*"]`, `["10.0.0.0/8", "host-1.example"]`}, []string{`[""]`, `["a b"]`, `["10.0.0.1", "x;y"]`}},
	{"nfs/main.hcl", "mount_point", "string", absPathOld, []string{`"/mnt/nfs"`}, []string{`"mnt/nfs"`, `"/mnt/nfs/"`}},
	{"nfs/main.hcl", "mount_options", "string", `can(regex("^[a-zA-Z0-9_=.,:-]+$", var.v))`,
		[]string{`"vers=4,_netdev"`, `"ro"`}, []string{`""`, `"ro rw"`, `"a;b"`}},
	{"orangefs/main.hcl", "servers", "number", `var.v >= 1`, []string{"1"}, []string{"0"}},
	{"orangefs/main.hcl", "clients", "number", `var.v >= 0`, []string{"0"}, []string{"-1"}},
	{"orangefs/main.hcl", "client_mount", "string", `contains(["kernel", "fuse"], var.v)`, []string{`"kernel"`, `"fuse"`}, []string{`"ceph"`}},
	{"orangefs/main.hcl", "storage_size_gb", "number", `var.v >= 1`, []string{"1", "10"}, []string{"0"}},
	{"orangefs/main.hcl", "source_url", "string", `can(regex("^(https?|ftp)://[^ '\"]+\\.tar\\.gz$", var.v))`,
		[]string{`"https://example.org/orangefs-2.9.8.tar.gz"`, `"http://h/a.tar.gz"`, `"ftp://h/x/y.tar.gz"`, `"http://h/a.tar.gz.tar.gz"`},
		[]string{`"https://example.org/orangefs.tgz"`, `"file:///a.tar.gz"`, `"https://a b/c.tar.gz"`, `"https://h/a'.tar.gz"`, `"http://.tar.gz"`, `"https://h/a.tar.gz "`, `""`}},
	{"orangefs/main.hcl", "source_sha256", "string", `var.v == "" || can(regex("^[0-9a-f]{64}$", var.v))`,
		[]string{`""`, `"` + strings.Repeat("0a", 32) + `"`}, []string{`"` + strings.Repeat("0A", 32) + `"`, `"` + strings.Repeat("a", 63) + `"`, `"` + strings.Repeat("a", 65) + `"`, `"xyz"`}},
	{"orangefs/main.hcl", "cflags", "string", `can(regex("^[a-zA-Z0-9 =_.,+-]*$", var.v))`,
		[]string{`""`, `"-O2 -fcommon"`, `"-Wno-error=int-conversion"`}, []string{`"-O2; rm"`, `"$(x)"`, `"a\"b"`}},
	{"orangefs/main.hcl", "mount_point", "string", absPathOld, []string{`"/mnt/orangefs"`}, []string{`"/mnt/orange fs"`, `"~/x"`}},
	{"modules/ceph-conf/main.hcl", "keyring_path", "string", `can(regex("^(/[A-Za-z0-9._@:+-]+)+$", var.v))`,
		[]string{`"/etc/ceph/ceph.client.admin.keyring"`, `"/a@b:c+d"`}, []string{`"etc/ceph"`, `"/etc/ceph/"`, `"/a b"`, `""`}},
	{"modules/gateways/main.hcl", "backend", "string", `contains(["gluster", "ceph"], var.v)`, []string{`"gluster"`, `"ceph"`}, []string{`"glusterfs"`, `""`}},
	{"modules/gateways/main.hcl", "volume", "string", `can(regex("^[a-zA-Z][a-zA-Z0-9_-]{0,79}$", var.v))`,
		[]string{`"gv0"`, `"cephfs"`, `"a` + strings.Repeat("b", 79) + `"`}, []string{`"a` + strings.Repeat("b", 80) + `"`, `""`, `"0a"`, `"a.b"`}},
	{"modules/gateways/main.hcl", "servers", "list(string)", `length([for s in var.v : s if !can(regex("^[a-zA-Z0-9.:-]+$", s))]) == 0`,
		[]string{`[]`, `["10.0.0.1", "fd00::1", "server-0"]`}, []string{`[""]`, `["a b"]`, `["ok", "a_b"]`}},
	{"modules/gateways/main.hcl", "public_addresses", "list(string)", `length([for a in var.v : a if !can(regex("^[0-9a-fA-F.:]+/[0-9]+ [a-zA-Z0-9_.-]+$", a))]) == 0`,
		[]string{`[]`, `["10.0.0.100/24 eth0", "fd00::5/64 ens3.1"]`}, []string{`["10.0.0.100/24"]`, `["10.0.0.100 eth0"]`, `["10.0.0.100/24 eth0 x"]`}},
	{"modules/gvfs-mount/main.hcl", "name", "string", `can(regex("^[a-z0-9][a-z0-9-]*$", var.v))`,
		[]string{`"nfs"`, `"0-a"`}, []string{`"-a"`, `"A"`, `""`, `"a_b"`}},
	{"modules/gvfs-mount/main.hcl", "protocol", "string", `contains(["nfs", "smb"], var.v)`, []string{`"nfs"`, `"smb"`}, []string{`"cifs"`}},
	{"modules/gvfs-mount/main.hcl", "server", "string", `can(regex("^[a-zA-Z0-9.:-]+$", var.v))`,
		[]string{`"10.0.0.1"`, `"fd00::1"`, `"gw-0"`}, []string{`""`, `"a b"`, `"a/b"`}},
	{"modules/gvfs-mount/main.hcl", "share", "string", `can(regex("^/?[a-zA-Z0-9._-]+(/[a-zA-Z0-9._-]+)*$", var.v))`,
		[]string{`"/share"`, `"gv0"`, `"/a/b"`}, []string{`"/"`, `"a/"`, `""`, `"a b"`}},
	{"modules/gvfs-mount/main.hcl", "mount_point", "string", absPathOld, []string{`"/mnt/nfs-gateway"`}, []string{`"mnt"`}},
	{"modules/radosgw/main.hcl", "port", "number", `var.v >= 1 && var.v <= 65535 && floor(var.v) == var.v`,
		[]string{"1", "7480", "65535"}, []string{"0", "65536", "80.5", "-1"}},
	{"modules/radosgw/main.hcl", "user", "string", `can(regex("^[a-z][a-z0-9_-]{0,63}$", var.v))`,
		[]string{`"diffuser"`, `"a"`, `"a` + strings.Repeat("b", 63) + `"`}, []string{`"a` + strings.Repeat("b", 64) + `"`, `"Diffuser"`, `""`, `"1a"`}},
	{"modules/radosgw/main.hcl", "pg_num", "number", `var.v >= 1 && var.v <= 1024 && floor(var.v) == var.v`,
		[]string{"1", "8", "1024"}, []string{"0", "1025", "8.5"}},
	{"modules/systemd-unit/main.hcl", "name", "string", `can(regex("^[A-Za-z0-9_][A-Za-z0-9_.@:-]*$", var.v))`,
		[]string{`"my-daemon"`, `"worker@1"`, `"a.service"`}, []string{`"-x"`, `""`, `"a b"`, `"a/b"`}},
	{"modules/systemd-unit/main.hcl", "state", "string", `contains(["started", "stopped", "restarted", "reloaded"], var.v)`,
		[]string{`"started"`, `"stopped"`, `"restarted"`, `"reloaded"`}, []string{`"running"`, `""`}},
	{"modules/xfs-volume/main.hcl", "target", "string", `can(regex("^(/[A-Za-z0-9._@:+-]+)+$", var.v))`,
		[]string{`"/data/brick"`, `"/srv/a@b"`}, []string{`"data"`, `"/data/"`, `""`}},
	{"moosefs/modules/daemon/main.hcl", "name", "string", `contains(["master", "metalogger", "chunkserver"], var.v)`,
		[]string{`"master"`, `"metalogger"`, `"chunkserver"`}, []string{`"client"`}},
	{"ceph/modules/dropin/main.hcl", "unit", "string", `can(regex("^[A-Za-z0-9_][A-Za-z0-9_.@:-]*$", var.v))`,
		[]string{`"ceph-osd@"`, `"ceph-mon@"`}, []string{`".x"`, `"a b"`}},
}

// narrowed are values the old conditions accepted and the constraints
// refuse, on purpose: format = "url" refuses every whitespace character
// (the old pattern refused only the space).
var narrowed = map[string][]string{
	"orangefs/main.hcl source_url": {`"https://h/a\tb.tar.gz"`, `"https://h/a\nb.tar.gz"`},
}

// builtinVariableBlock returns the source of variable name's block in a
// built-in recipe's or module's file.
func builtinVariableBlock(t *testing.T, file, name string) string {
	t.Helper()
	fsys, p := recipes.FS(), file
	if rest, ok := strings.CutPrefix(file, "modules/"); ok {
		fsys, p = recipes.Modules(), rest
	}
	src, err := fs.ReadFile(fsys, p)
	if err != nil {
		t.Fatal(err)
	}
	f, diags := hclsyntax.ParseConfig(src, file, hcl.InitialPos)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	for _, b := range f.Body.(*hclsyntax.Body).Blocks {
		if b.Type == "variable" && len(b.Labels) == 1 && b.Labels[0] == name {
			return string(b.Range().SliceBytes(src))
		}
	}
	t.Fatalf("%s has no variable %q", file, name)
	return ""
}

// accepts says whether the recipe made of the variable block vblock
// (named name) takes value, given in a -var-file.
func accepts(t *testing.T, vblock, name, value string) (bool, string) {
	t.Helper()
	r, diags := loadString(t, "recipe \"t\" {}\n\n"+vblock+"\n")
	if diags.HasErrors() {
		t.Fatalf("load:%s", diagString(diags))
	}
	vf := writeFile(t, t.TempDir(), "v.tfvars", fmt.Sprintf("%s = %s\n", name, value))
	_, diags = r.ResolveVariables(lang.Inputs{VarFiles: []string{vf}})
	return !diags.HasErrors(), diagString(diags)
}

// TestBuiltinConstraintsKeepOldValidations: every built-in variable whose
// validation block became constraints accepts and refuses what the old
// condition did. The old condition runs as a validation block of a
// variable of the same type; the new declaration is the block as it
// stands in the recipe, run through ResolveVariables.
func TestBuiltinConstraintsKeepOldValidations(t *testing.T) {
	for _, c := range oracleCases {
		t.Run(strings.TrimSuffix(c.file, "/main.hcl")+"/"+c.name, func(t *testing.T) {
			oracle := fmt.Sprintf("variable %q {\n  type = %s\n  validation {\n    condition     = %s\n    error_message = \"old\"\n  }\n}", "v", c.typ, c.old)
			block := builtinVariableBlock(t, c.file, c.name)
			if strings.Contains(block, "can(regex(") || strings.Contains(block, "contains([") {
				t.Errorf("%s var.%s still has a hand-written condition a constraint covers:\n%s", c.file, c.name, block)
			}
			check := func(vals []string, want bool) {
				for _, v := range vals {
					if got, _ := accepts(t, oracle, "v", v); got != want {
						t.Errorf("oracle: old condition accepts %s = %v, the table says %v", v, got, want)
					}
					if got, msg := accepts(t, block, c.name, v); got != want {
						t.Errorf("%s var.%s accepts %s = %v, want %v (as before):%s", c.file, c.name, v, got, want, msg)
					}
				}
			}
			check(c.ok, true)
			check(c.bad, false)
			for _, v := range narrowed[c.file+" "+c.name] {
				if got, _ := accepts(t, oracle, "v", v); !got {
					t.Errorf("narrowed %s: the old condition refused it too; move it to bad", v)
				}
				if got, _ := accepts(t, block, c.name, v); got {
					t.Errorf("narrowed %s: accepted now", v)
				}
			}
		})
	}
}

// TestBuiltinValidationsLeft lists the validation blocks left in the
// built-in recipes and modules: each needs words a constraint cannot say.
// A new one belongs here only if no constraint fits.
func TestBuiltinValidationsLeft(t *testing.T) {
	want := map[string]bool{
		"ceph/main.hcl monitors":                   true, // odd: quorum is a majority
		"ceph/main.hcl client_id":                  true, // not admin
		"glusterfs/main.hcl disperse":              true, // 0 (off) or at least 3
		"glusterfs/main.hcl package_repository":    true, // null or an object of exactly these attributes (no optional() types)
		"modules/xfs-volume/main.hcl device":       true, // a /dev/ path, set from host.volume
		"ceph/modules/dropin/main.hcl content":     true, // ends in a newline, no UNIT line
		"modules/ganesha/main.hcl export":          true, // an object's attributes, written into Ganesha's configuration
		"modules/package-repo/main.hcl key":        true, // an armored public key, and how to get one
		"modules/package-repo/main.hcl uris":       true, // at least one: no constraint counts a list's elements
		"modules/package-repo/main.hcl suites":     true, // at least one, or a flat repository's "./"
		"modules/package-repo/main.hcl components": true, // none with a flat suite: a rule across two inputs
	}
	got := map[string]bool{}
	walk := func(fsys fs.FS, prefix string) {
		err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || filepath.Ext(p) != ".hcl" {
				return err
			}
			src, err := fs.ReadFile(fsys, p)
			if err != nil {
				return err
			}
			f, diags := hclsyntax.ParseConfig(src, p, hcl.InitialPos)
			if diags.HasErrors() {
				return diags
			}
			for _, b := range f.Body.(*hclsyntax.Body).Blocks {
				if b.Type != "variable" {
					continue
				}
				for _, vb := range b.Body.Blocks {
					if vb.Type == "validation" {
						got[prefix+p+" "+b.Labels[0]] = true
					}
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	walk(recipes.FS(), "")
	walk(recipes.Modules(), "modules/")
	for k := range got {
		if !want[k] {
			t.Errorf("%s: a validation block is left; write it as constraints (min, max, integer, one_of, format, pattern, allow_empty) or list it here with the reason", k)
		}
	}
	for k := range want {
		if !got[k] {
			t.Errorf("%s: listed as keeping a validation block, has none", k)
		}
	}
}

// TestBuiltinNumbersAreWhole: every number variable of the built-in
// recipes and modules is a count, a size or a port, and says so with
// integer = true, so that -var servers=1.5 is refused at the flag (the
// variable's name and what it accepts) rather than deep in a hosts block
// or a command. A number that may be fractional belongs in the list with
// the reason.
func TestBuiltinNumbersAreWhole(t *testing.T) {
	fractional := map[string]string{}
	check := func(fsys fs.FS, prefix string) {
		err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || filepath.Ext(p) != ".hcl" {
				return err
			}
			src, err := fs.ReadFile(fsys, p)
			if err != nil {
				return err
			}
			f, diags := hclsyntax.ParseConfig(src, p, hcl.InitialPos)
			if diags.HasErrors() {
				return diags
			}
			for _, b := range f.Body.(*hclsyntax.Body).Blocks {
				if b.Type != "variable" {
					continue
				}
				typ, ok := b.Body.Attributes["type"]
				if !ok {
					continue
				}
				if tr, d := hcl.AbsTraversalForExpr(typ.Expr); d.HasErrors() || tr.RootName() != "number" {
					continue
				}
				key := prefix + p + " " + b.Labels[0]
				whole := false
				if a, ok := b.Body.Attributes["integer"]; ok {
					v, d := a.Expr.Value(nil)
					whole = !d.HasErrors() && v.True()
				}
				if !whole && fractional[key] == "" {
					t.Errorf("%s: a number variable without integer = true", key)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	check(recipes.FS(), "")
	check(recipes.Modules(), "modules/")
}
