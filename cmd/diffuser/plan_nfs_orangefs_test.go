package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// Plan-level tests of the built-in nfs and orangefs recipes: validate and
// plan --provider static through the CLI, no host needed. They are what
// covers the paths that cannot run on this machine: the kernel NFS server
// and client (no nfsd or NFS client in containers here) and all of
// OrangeFS (its tarball cannot be fetched here).

// recipePlan is the part of `plan --json` these tests read.
type recipePlan struct {
	Changes []struct {
		Address string         `json:"address"`
		Action  string         `json:"action"`
		Kind    string         `json:"kind"`
		Step    string         `json:"step"`
		Host    string         `json:"host"`
		Args    map[string]any `json:"args"`
	} `json:"changes"`
	Summary struct {
		Add, Change, Destroy int
	} `json:"summary"`
}

// steps counts the planned instances of each step.
func (p recipePlan) steps() map[string]int {
	n := map[string]int{}
	for _, c := range p.Changes {
		if c.Step != "" {
			n[c.Step]++
		}
	}
	return n
}

// arg returns a string argument of step's instance on host.
func (p recipePlan) arg(t *testing.T, step, host, name string) string {
	t.Helper()
	for _, c := range p.Changes {
		if c.Step == step && c.Host == host {
			s, _ := c.Args[name].(string)
			return s
		}
	}
	t.Fatalf("no instance of step %s on %s in the plan", step, host)
	return ""
}

// staticSite writes a site file listing static addresses for each group.
func staticSite(t *testing.T, groups map[string]int, volumes map[string]string) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("provider \"static\" {\n")
	names := make([]string, 0, len(groups))
	for g := range groups {
		names = append(names, g)
	}
	sort.Strings(names)
	for gi, g := range names {
		var addrs []string
		for i := 0; i < groups[g]; i++ {
			addrs = append(addrs, fmt.Sprintf("%q", fmt.Sprintf("10.%d.%d.%d", gi+1, i/250, i%250+1)))
		}
		fmt.Fprintf(&b, "  hosts %q {\n    addresses = [%s]\n", g, strings.Join(addrs, ", "))
		if v, ok := volumes[g]; ok {
			fmt.Fprintf(&b, "    volumes = { %s = \"/dev/xvdb\" }\n", v)
		}
		b.WriteString("  }\n")
	}
	b.WriteString("}\n")
	name := filepath.Join(t.TempDir(), "diffuser.hcl")
	if err := os.WriteFile(name, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return name
}

func cliRun(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), nil, args, strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

func planVars(args []string, vars []string) []string {
	out := append([]string{}, args...)
	for _, v := range vars {
		out = append(out, "--var", v)
	}
	return out
}

// planRecipe validates and plans recipe with vars on static hosts, checks
// the exit codes (validate 0, plan 0, plan --detailed-exitcode 2: all to
// create) and returns the JSON plan.
func planRecipe(t *testing.T, recipe, site string, vars ...string) recipePlan {
	t.Helper()
	if code, out, errs := cliRun(t, planVars([]string{"validate", recipe}, vars)...); code != 0 {
		t.Fatalf("validate %s %v: exit %d\n%s%s", recipe, vars, code, out, errs)
	}
	data := t.TempDir()
	base := []string{"plan", recipe, "--provider", "static", "--site", site, "--data-dir", data}
	code, out, errs := cliRun(t, planVars(base, vars)...)
	if code != 0 || !strings.Contains(out, "Plan: ") {
		t.Fatalf("plan %s %v: exit %d\n%s%s", recipe, vars, code, out, errs)
	}
	if code, out, errs := cliRun(t, planVars(append(base, "--detailed-exitcode"), vars)...); code != 2 {
		t.Fatalf("plan --detailed-exitcode %s %v: exit %d, want 2\n%s%s", recipe, vars, code, out, errs)
	}
	code, out, errs = cliRun(t, planVars(append(base, "--json"), vars)...)
	if code != 0 {
		t.Fatalf("plan --json %s %v: exit %d\n%s", recipe, vars, code, errs)
	}
	var p recipePlan
	if err := json.Unmarshal([]byte(out), &p); err != nil {
		t.Fatalf("plan --json: %v\n%s", err, out)
	}
	if p.Summary.Add != len(p.Changes) || p.Summary.Change != 0 || p.Summary.Destroy != 0 {
		t.Fatalf("from empty state everything is created: summary %+v for %d changes", p.Summary, len(p.Changes))
	}
	return p
}

// checkShellSyntax runs `sh -n` on every run command the plan already knows
// (commands that read addresses are known only after launch).
func checkShellSyntax(t *testing.T, p recipePlan) {
	t.Helper()
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh")
	}
	for _, c := range p.Changes {
		if c.Kind != "run" {
			continue
		}
		for _, key := range []string{"command", "unless"} {
			cmd, _ := c.Args[key].(string)
			if cmd == "" || strings.Contains(cmd, "(known after apply)") {
				continue
			}
			sh := exec.Command("sh", "-n")
			sh.Stdin = strings.NewReader(cmd)
			if out, err := sh.CombinedOutput(); err != nil {
				t.Errorf("%s %s: sh -n: %v\n%s\n%s", c.Address, key, err, out, cmd)
			}
		}
	}
}

func wantSteps(t *testing.T, p recipePlan, want map[string]int) {
	t.Helper()
	got := p.steps()
	for s, n := range want {
		if got[s] != n {
			t.Errorf("step %s: %d instances, want %d", s, got[s], n)
		}
	}
	for s, n := range got {
		if _, ok := want[s]; !ok {
			t.Errorf("unexpected step %s (%d instances)", s, n)
		}
	}
}

func TestNFSRecipePlan(t *testing.T) {
	server := map[string]int{"server_packages": 1, "module.export.step.packages": 1, "module.export.step.format": 1, "module.export.step.mount": 1, "nfs_ports": 1}
	kernelServer := map[string]int{"kernel_exports": 1, "kernel_service": 1, "kernel_statd": 1, "kernel_port": 1}
	ganeshaServer := map[string]int{"module.ganesha.step.config": 1, "module.ganesha.step.exports": 1,
		"module.ganesha.step.service": 1, "module.ganesha.step.ready": 1, "ganesha_lock": 1}
	merge := func(ms ...map[string]int) map[string]int {
		out := map[string]int{}
		for _, m := range ms {
			for k, v := range m {
				out[k] = v
			}
		}
		return out
	}
	clientSteps := func(mount string, n int) map[string]int {
		if n == 0 {
			return nil
		}
		if mount == "kernel" {
			return map[string]int{"client_packages": n, "kernel_mount": n}
		}
		return map[string]int{"client_packages": n, "module.libnfs.step.packages": n, "module.libnfs.step.script": n, "module.libnfs.step.unit": n,
			"module.libnfs.step.mount": n, "module.libnfs.step.ready": n, "gvfs_service": n, "gvfs_retire": n}
	}
	for _, tc := range []struct {
		server, mount string
		clients       int
	}{
		{"kernel", "kernel", 2}, // the default: what a cloud deployment runs (plan-level only here)
		{"kernel", "libnfs", 1},
		{"ganesha", "kernel", 3},
		{"ganesha", "libnfs", 2}, // what the docker e2e test deploys
		{"kernel", "kernel", 0},
		{"ganesha", "libnfs", 12},
	} {
		t.Run(fmt.Sprintf("%s-%s-%d", tc.server, tc.mount, tc.clients), func(t *testing.T) {
			site := staticSite(t, map[string]int{"server": 1, "client": tc.clients}, map[string]string{"server": "export"})
			p := planRecipe(t, "nfs", site, "server="+tc.server, "mount="+tc.mount, fmt.Sprintf("clients=%d", tc.clients))
			srv := kernelServer
			if tc.server == "ganesha" {
				srv = ganeshaServer
			}
			wantSteps(t, p, merge(server, srv, clientSteps(tc.mount, tc.clients)))
			checkShellSyntax(t, p)
			svc := map[string]string{"kernel": "kernel_service", "ganesha": "module.ganesha.step.service"}[tc.server]
			unit := p.arg(t, svc, "server[0]", "name")
			if want := map[string]string{"kernel": "nfs-server", "ganesha": "nfs-ganesha"}[tc.server]; unit != want {
				t.Errorf("%s manages %q, want %q", svc, unit, want)
			}
			if tc.mount == "libnfs" && tc.clients > 0 {
				// gvfs_service keeps the unit builtin/gvfs-mount writes.
				path := p.arg(t, "module.libnfs.step.unit", "client[0]", "path")
				if svc := p.arg(t, "gvfs_service", "client[0]", "name"); path != "/etc/systemd/system/"+svc+".service" {
					t.Errorf("gvfs_service manages %q, the module writes %q", svc, path)
				}
			}
		})
	}

	t.Run("exports", func(t *testing.T) {
		// With export_to given, the export lists are known at plan time.
		site := staticSite(t, map[string]int{"server": 1, "client": 2}, map[string]string{"server": "export"})
		p := planRecipe(t, "nfs", site, `export_to=["10.2.0.0/24","10.9.9.9"]`, "export_path=/srv/data")
		exports := p.arg(t, "kernel_exports", "server[0]", "content")
		if want := "/srv/data 10.2.0.0/24(rw,sync,no_subtree_check,no_root_squash) 10.9.9.9(rw,sync,no_subtree_check,no_root_squash)\n"; !strings.Contains(exports, want) {
			t.Errorf("/etc/exports.d line:\n%s\nwant %q", exports, want)
		}
		if path := p.arg(t, "kernel_exports", "server[0]", "path"); path != "/etc/exports.d/diffuser-nfs.exports" {
			t.Errorf("exports file %q", path)
		}
		if unit := p.arg(t, "kernel_statd", "server[0]", "name"); unit != "rpc-statd" {
			t.Errorf("kernel_statd manages %q, want rpc-statd", unit)
		}
		p = planRecipe(t, "nfs", site, "server=ganesha", `export_to=["10.2.0.0/24","10.9.9.9"]`, "export_path=/srv/data")
		conf := p.arg(t, "module.ganesha.step.exports", "server[0]", "content")
		for _, want := range []string{`Path = "/srv/data";`, `Pseudo = "/srv/data";`, "Protocols = 3, 4;", "Clients = 10.2.0.0/24, 10.9.9.9;", "Name = VFS;", "Access_Type = RW;"} {
			if !strings.Contains(conf, want) {
				t.Errorf("ganesha export lacks %q:\n%s", want, conf)
			}
		}
		if core := p.arg(t, "module.ganesha.step.config", "server[0]", "content"); !strings.Contains(core, `%include "/etc/ganesha/diffuser-export.conf"`) {
			t.Errorf("ganesha.conf does not include the export:\n%s", core)
		}

		// No clients and no export_to: nothing is exported (an exports line
		// without hosts would export to the world).
		site0 := staticSite(t, map[string]int{"server": 1, "client": 0}, map[string]string{"server": "export"})
		p = planRecipe(t, "nfs", site0, "clients=0")
		if exports := p.arg(t, "kernel_exports", "server[0]", "content"); strings.Contains(exports, "/srv/nfs") {
			t.Errorf("with no clients the kernel server exports:\n%s", exports)
		}
		p = planRecipe(t, "nfs", site0, "clients=0", "server=ganesha")
		if conf := p.arg(t, "module.ganesha.step.exports", "server[0]", "content"); strings.Contains(conf, "EXPORT") {
			t.Errorf("with no clients NFS-Ganesha exports:\n%s", conf)
		}
	})

	// The package names depend on host.facts.os.family, known only once
	// hosts answer: workspace's TestPrerewriteStatePlansAsDocumented shows
	// that a Debian host installs what the recipe installed before (the
	// package steps plan as no-op over pre-rewrite state).
}

func TestNFSRecipeRefusesBadValues(t *testing.T) {
	for _, tc := range []struct{ v, msg string }{
		{"server=samba", `var.server is "samba"; it must be one of "kernel", "ganesha".`},
		{"mount=fuse", `var.mount is "fuse"; it must be one of "kernel", "libnfs".`},
		{"clients=-1", "var.clients is -1; it must be a whole number, at least 0."},
		{"export_path=srv/nfs", `var.export_path is "srv/nfs"; it must be an absolute path`},
		{"mount_point=/mnt/my nfs", `var.mount_point is "/mnt/my nfs"; it must be an absolute path`},
		{`export_to=["10.0.0.1 rw"]`, `var.export_to[0] is "10.0.0.1 rw"; each element must be a string matching`},
		{"mount_options=vers=4, hard", `var.mount_options is "vers=4, hard"; it must be a string matching`},
		{"export_size_gb=0", "var.export_size_gb is 0; it must be a whole number, at least 1."},
	} {
		code, out, errs := cliRun(t, "validate", "nfs", "--var", tc.v)
		if code != 1 || !strings.Contains(out+errs, tc.msg) {
			t.Errorf("validate nfs --var %s: exit %d, want 1 with %q\n%s%s", tc.v, code, tc.msg, out, errs)
		}
	}
}

func TestOrangeFSRecipePlan(t *testing.T) {
	for _, tc := range []struct {
		servers, clients int
		mount            string
	}{
		{1, 1, "kernel"},
		{2, 2, "kernel"}, // the defaults
		{3, 2, "fuse"},
		{8, 4, "kernel"},
		{16, 0, "fuse"},
	} {
		t.Run(fmt.Sprintf("%ds-%dc-%s", tc.servers, tc.clients, tc.mount), func(t *testing.T) {
			site := staticSite(t, map[string]int{"server": tc.servers, "client": tc.clients}, map[string]string{"server": "storage"})
			p := planRecipe(t, "orangefs", site, fmt.Sprintf("servers=%d", tc.servers), fmt.Sprintf("clients=%d", tc.clients), "client_mount="+tc.mount)
			s, c := tc.servers, tc.clients
			want := map[string]int{
				"module.server_build.step.deps": s, "module.server_build.step.build": s, "module.storage.step.packages": s, "module.storage.step.format": s, "module.storage.step.mount": s,
				"genconfig": 1, "server_conf": s, "server_storage": s, "module.server_daemon.step.unit": s, "module.server_daemon.step.service": s, "server_port": s,
			}
			if c > 0 {
				for k, v := range map[string]int{"module.client_build.step.deps": c, "module.client_build.step.build": c, "pvfs2tab": c, "servers_reachable": c} {
					want[k] = v
				}
				if tc.mount == "kernel" {
					for k, v := range map[string]int{"kernel_module": c, "module.client_daemon.step.unit": c, "module.client_daemon.step.service": c, "kernel_mount": c} {
						want[k] = v
					}
				} else {
					for k, v := range map[string]int{"module.fuse_daemon.step.unit": c, "module.fuse_daemon.step.service": c, "fuse_mounted": c} {
						want[k] = v
					}
				}
			}
			wantSteps(t, p, want)
			checkShellSyntax(t, p)
			for _, ch := range p.Changes {
				if ch.Step == "genconfig" && ch.Host != "server[0]" {
					t.Errorf("genconfig runs on %s: the configuration is made once, on server[0]", ch.Host)
				}
			}
			build := p.arg(t, "module.server_build.step.build", "server[0]", "command")
			for _, want := range []string{
				"https://s3.amazonaws.com/download.orangefs.org/current/source/orangefs-2.9.8.tar.gz",
				"tar -xzf", "--strip-components=1",
				"./configure --prefix=/opt/orangefs --with-db-backend=lmdb --disable-usrint",
				"make install", "-fcommon",
			} {
				if !strings.Contains(build, want) {
					t.Errorf("build script lacks %q:\n%s", want, build)
				}
			}
			if fuse := strings.Contains(build, "--enable-fuse"); fuse != (tc.mount == "fuse") {
				t.Errorf("client_mount=%s but --enable-fuse in the build is %v", tc.mount, fuse)
			}
			if strings.Contains(build, "sha256sum -c") {
				t.Errorf("no source_sha256 given, yet the build checks one:\n%s", build)
			}
			if cr := p.arg(t, "module.server_build.step.build", "server[0]", "creates"); !strings.HasPrefix(cr, "/opt/orangefs/.diffuser-build-") {
				t.Errorf("server_build creates %q", cr)
			}
			if c > 0 {
				if tc.mount == "kernel" {
					if fs := p.arg(t, "kernel_mount", "client[0]", "fstype"); fs != "pvfs2" {
						t.Errorf("kernel_mount fstype %q", fs)
					}
				} else {
					// The unit names the first server's address: known after launch.
					if path := p.arg(t, "module.fuse_daemon.step.unit", "client[0]", "path"); path != "/etc/systemd/system/orangefs-fuse.service" {
						t.Errorf("fuse_unit path %q", path)
					}
					if name := p.arg(t, "module.fuse_daemon.step.service", "client[0]", "name"); name != "orangefs-fuse" {
						t.Errorf("fuse_service manages %q", name)
					}
				}
			}
		})
	}

	t.Run("checksum", func(t *testing.T) {
		site := staticSite(t, map[string]int{"server": 1, "client": 1}, map[string]string{"server": "storage"})
		sum := strings.Repeat("ab", 32)
		p := planRecipe(t, "orangefs", site, "servers=1", "clients=1", "source_sha256="+sum)
		if build := p.arg(t, "module.client_build.step.build", "client[0]", "command"); !strings.Contains(build, sum+"  $tarball\" | sha256sum -c -") {
			t.Errorf("build does not check the tarball's sha256:\n%s", build)
		}
	})
}

func TestOrangeFSRecipeRefusesBadValues(t *testing.T) {
	for _, tc := range []struct{ v, msg string }{
		{"servers=0", "var.servers is 0; it must be a whole number, at least 1."},
		{"clients=-2", "var.clients is -2; it must be a whole number, at least 0."},
		{"client_mount=nfs", `var.client_mount is "nfs"; it must be one of "kernel", "fuse".`},
		{"source_url=orangefs.tar.gz", `var.source_url is "orangefs.tar.gz"; it must be an http, https or ftp URL`},
		{"source_url=https://example.org/orangefs.zip", `var.source_url is "https://example.org/orangefs.zip"; it must be an http, https or ftp URL without spaces or quotes, matching the pattern`},
		{"source_sha256=abc", `var.source_sha256 is "abc"; it must be a SHA-256 digest: 64 lowercase hex digits or empty ("")`},
		{"cflags=-O2; rm -rf /", `var.cflags is "-O2; rm -rf /"; it must be a string matching`},
		{"mount_point=mnt", `var.mount_point is "mnt"; it must be an absolute path`},
	} {
		code, out, errs := cliRun(t, "validate", "orangefs", "--var", tc.v)
		if code != 1 || !strings.Contains(out+errs, tc.msg) {
			t.Errorf("validate orangefs --var %s: exit %d, want 1 with %q\n%s%s", tc.v, code, tc.msg, out, errs)
		}
	}
}

// TestGaneshaModuleRefusesBadExport: what builtin/ganesha writes into
// Ganesha's configuration is checked at the call, naming the module's
// rule, so that a path or client cannot end a string or block there.
func TestGaneshaModuleRefusesBadExport(t *testing.T) {
	for _, tc := range []struct{ export, msg string }{
		{`{ path = "/srv/a\"; }", pseudo = "/srv/a", fsal = "", clients = [] }`, "export.path and export.pseudo are absolute paths"},
		{`{ path = "/srv/a", pseudo = "srv/a", fsal = "", clients = [] }`, "export.path and export.pseudo are absolute paths"},
		{`{ path = "/srv/a", pseudo = "/srv/a", fsal = "", clients = ["10.0.0.1; }"] }`, "export.clients are addresses, CIDR ranges"},
	} {
		dir := t.TempDir()
		src := `recipe "g" { description = "d" }
hosts "server" { count = 1 }
module "ganesha" {
  source = "builtin/ganesha"
  hosts  = hosts.server
  config = "NFS_CORE_PARAM { }\n"
  export = ` + tc.export + `
}
`
		if err := os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		code, out, errs := cliRun(t, "validate", dir)
		if code != 1 || !strings.Contains(out+errs, tc.msg) {
			t.Errorf("export = %s: exit %d, want 1 with %q\n%s%s", tc.export, code, tc.msg, out, errs)
		}
	}
	// A good export is valid.
	dir := t.TempDir()
	src := `recipe "g" { description = "d" }
hosts "server" { count = 1 }
module "ganesha" {
  source = "builtin/ganesha"
  hosts  = hosts.server
  config = "NFS_CORE_PARAM { }\n"
  export = { path = "/srv/a", pseudo = "/srv/a", fsal = "FSAL { Name = VFS; }\n", clients = ["10.0.0.0/24", "*"] }
}
`
	if err := os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, out, errs := cliRun(t, "validate", dir); code != 0 {
		t.Errorf("a good export: exit %d\n%s%s", code, out, errs)
	}
}
