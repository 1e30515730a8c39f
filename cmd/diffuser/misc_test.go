package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"diffuser/lang"
	"diffuser/recipes"
	"diffuser/state"
	"diffuser/views"

	"github.com/spf13/cobra"
	"github.com/zclconf/go-cty/cty"
)

const miscRecipe = `recipe "misc" {
  description = "everyday commands"
}

hosts "server" {
  count = 2
  volume "data" { size_gb = 3 }
}

hosts "client" {}

step "hello" {
  on  = hosts.server
  run = "echo hello from ${host.name}"
}

step "mount" {
  on  = hosts.client
  run = "mount -t fake ${hosts.server[0].private_ip}:/vol /mnt/fs"
}

verify "roundtrip" {
  on   = hosts.client
  path = "/mnt/fs"
}

output "address" {
  value = "${hosts.server[0].private_ip}:/vol"
}
`

// miscEnv is a workspace applied on simulated hosts with the real kinds;
// commands print "out:<command>" so logs have output.
func miscEnv(t *testing.T) (*simCLI, string) {
	t.Helper()
	e := newSimCLI(t, func(host, cmd string) (time.Duration, int, string) {
		if strings.HasPrefix(cmd, "echo hello") {
			return 0, 0, strings.TrimPrefix(cmd, "echo ") + "\n"
		}
		return 0, 0, ""
	})
	recipe := e.write("misc/main.hcl", miscRecipe)
	e.must("apply", recipe, "-provider", "sim", "-auto-approve", "--progress", "quiet")
	return e, recipe
}

func TestLogsCommand(t *testing.T) {
	e, _ := miscEnv(t)
	out := e.must("logs", "hello")
	for _, want := range []string{
		logHeader(t, e.data, "misc", "hello", "server[0]"), logHeader(t, e.data, "misc", "hello", "server[1]"),
		"$ echo hello from server[0]", "hello from server[1]\n", "=== exit 0 after",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("logs hello lacks %q:\n%s", want, out)
		}
	}
	out = e.must("logs", "hello", "server[1]")
	if strings.Contains(out, "server[0]") || !strings.Contains(out, "hello from server[1]") {
		t.Errorf("logs hello server[1]:\n%s", out)
	}
	// Another data directory has other logs: the command reads the one it is given.
	empty := t.TempDir()
	if code, _, errs := e.run("logs", "hello", "--data-dir", empty); code != 1 || !strings.Contains(errs, "no logs under") {
		t.Errorf("logs with an empty --data-dir: exit %d\n%s", code, errs)
	}
	// Logs written before runs existed are left where they were, and named.
	if err := os.MkdirAll(filepath.Join(empty, "logs", "hello"), 0o700); err != nil {
		t.Fatal(err)
	}
	if code, _, errs := e.run("logs", "hello", "--data-dir", empty); code != 1 || !strings.Contains(errs, "still in "+filepath.Join(empty, "logs")) {
		t.Errorf("logs with only the old log directory: exit %d\n%s", code, errs)
	}
	if code, _, errs := e.run("logs", "nosuch"); code != 1 || !strings.Contains(errs, "steps with logs in run "+latestRun(t, e.data, "misc").ID+": hello, mount") {
		t.Errorf("logs of an unknown step: exit %d\n%s", code, errs)
	}
	if code, _, errs := e.run("logs", "hello", "client[9]"); code != 1 || !strings.Contains(errs, "hosts with logs in run "+latestRun(t, e.data, "misc").ID+": server[0], server[1]") {
		t.Errorf("logs of an unknown host: exit %d\n%s", code, errs)
	}
}

func TestOutputStateHosts(t *testing.T) {
	e, _ := miscEnv(t)
	st := loadStateFile(t, e.data, "misc")
	addr := st.Hosts["server[0]"].PrivateIP + ":/vol"

	if out := e.must("output", "misc"); out != "address = "+addr+"\n" {
		t.Errorf("output:\n%s", out)
	}
	if out := e.must("output", "misc", "address"); out != addr+"\n" {
		t.Errorf("output misc address: %q", out)
	}
	var outs map[string]state.Output
	if err := json.Unmarshal([]byte(e.must("output", "misc", "-json")), &outs); err != nil || outs["address"].Value != addr {
		t.Errorf("output -json: %v %v", err, outs)
	}
	if code, _, errs := e.run("output", "misc", "nope"); code != 1 || !strings.Contains(errs, `no output "nope"`) {
		t.Errorf("unknown output: %d %s", code, errs)
	}
	if code, _, errs := e.run("output", "nowhere"); code != 1 || !strings.Contains(errs, `no workspace "nowhere"`) {
		t.Errorf("unknown workspace: %d %s", code, errs)
	}

	list := strings.Split(strings.TrimSpace(e.must("state", "list", "misc")), "\n")
	want := []string{`launch["client[0]"]`, `launch["server[0]"]`, `launch["server[1]"]`,
		`step.hello["server[0]"] (applied)`, `step.hello["server[1]"] (applied)`, `step.mount["client[0]"] (applied)`}
	if !reflect.DeepEqual(list, want) {
		t.Errorf("state list:\n%s\nwant:\n%s", strings.Join(list, "\n"), strings.Join(want, "\n"))
	}
	var inst state.Instance
	if err := json.Unmarshal([]byte(e.must("state", "show", "misc", `step.hello["server[1]"]`)), &inst); err != nil ||
		inst.Status != "applied" || inst.Kind != "run" || !strings.Contains(string(inst.Args), "echo hello from server[1]") {
		t.Errorf("state show instance: %v %+v", err, inst)
	}
	var h state.Host
	if err := json.Unmarshal([]byte(e.must("state", "show", "misc", "server[0]")), &h); err != nil || h.PrivateIP == "" || h.Volumes["data"].SizeGB != 3 {
		t.Errorf("state show host: %v %+v", err, h)
	}
	// state list prints hosts as launch["server[0]"]: show takes that too.
	var lh state.Host
	if err := json.Unmarshal([]byte(e.must("state", "show", "misc", `launch["server[0]"]`)), &lh); err != nil || lh.PrivateIP != h.PrivateIP {
		t.Errorf("state show launch[\"server[0]\"]: %v %+v", err, lh)
	}
	if code, _, errs := e.run("state", "show", "misc", "server[7]"); code != 1 || !strings.Contains(errs, "nothing at") {
		t.Errorf("state show of nothing: %d %s", code, errs)
	}

	hosts := strings.Split(strings.TrimSpace(e.must("hosts", "misc")), "\n")
	if len(hosts) != 4 || !strings.HasPrefix(hosts[0], "HOST") || !strings.HasPrefix(hosts[1], "client[0]") ||
		!strings.Contains(hosts[2], "data=/dev/sim") || !strings.Contains(hosts[2], "(3G)") || !strings.Contains(hosts[2], st.Hosts["server[0]"].PrivateIP) ||
		!strings.Contains(hosts[0], " SSH ") || !strings.Contains(hosts[2], " root@server[0]:22 ") {
		t.Errorf("hosts:\n%s", strings.Join(hosts, "\n"))
	}
}

func loadStateFile(t *testing.T, data, ws string) *state.State {
	t.Helper()
	st, err := state.Open(filepath.Join(data, ws)).Load()
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func TestBenchCommand(t *testing.T) {
	e := newSimCLI(t, func(host, cmd string) (time.Duration, int, string) {
		switch {
		case strings.Contains(cmd, "command -v fio"):
			return 0, 0, "diffuser-bench fio=no fstype=fuse.glusterfs writable=yes\n"
		case strings.Contains(cmd, "mode=write"):
			return 0, 0, "diffuser-bench ns=1000000000 mode=write\n"
		case strings.Contains(cmd, "if="):
			return 0, 0, "diffuser-bench ns=250000000 mode=dropcaches\n"
		}
		return 0, 0, ""
	})
	recipe := e.write("misc/main.hcl", strings.Replace(miscRecipe, `hosts "client" {}`, `hosts "client" { count = 2 }`, 1))
	if code, _, errs := e.run("bench", recipe, "-provider", "sim"); code != 1 || !strings.Contains(errs, "has no hosts: run diffuser apply") {
		t.Errorf("bench before apply: exit %d\n%s", code, errs)
	}
	e.must("apply", recipe, "-provider", "sim", "-auto-approve", "--progress", "quiet")
	out := e.must("bench", recipe, "-provider", "sim", "-size", "64MiB", "-threads", "2")
	for _, want := range []string{
		"Benchmarking misc: 64 MiB per client in 2 threads",
		"client[0]", "client[1]", "fuse.glusterfs", "dd", "67.1", "268.4", // 64 MiB in 1 s, in 0.25 s
		"all 2 clients", "Write: 128 MiB in", "files written by client[1], page cache dropped",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("bench output lacks %q:\n%s", want, out)
		}
	}
	if code, _, errs := e.run("bench", recipe, "-provider", "sim", "-size", "lots"); code != 1 || !strings.Contains(errs, "is not a size") {
		t.Errorf("bad -size: %d %s", code, errs)
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{"1GiB": 1 << 30, "512MiB": 512 << 20, "100MB": 100e6, "1G": 1 << 30, "4096": 4096, "1.5 GiB": 3 << 29, "2tb": 2e12} {
		if got, err := parseSize(in); err != nil || got != want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "GiB", "-1G", "1 parsec", "0"} {
		if _, err := parseSize(in); err == nil {
			t.Errorf("parseSize(%q) accepted", in)
		}
	}
}

func TestSSHCommandPrint(t *testing.T) {
	e, _ := miscEnv(t)
	out := e.must("ssh", "misc", "server[1]", "--print")
	st := loadStateFile(t, e.data, "misc")
	h := st.Hosts["server[1]"]
	for _, want := range []string{"ssh -i " + filepath.Join(e.data, "misc", "id_ed25519"), "StrictHostKeyChecking=yes",
		"UserKnownHostsFile=" + filepath.Join(e.data, "misc", "known_hosts"), "root@" + h.SSH.Address} {
		if !strings.Contains(out, want) {
			t.Errorf("ssh --print lacks %q:\n%s", want, out)
		}
	}
	known, err := os.ReadFile(filepath.Join(e.data, "misc", "known_hosts"))
	if err != nil || !strings.Contains(string(known), "diffuser.misc.server-1 ssh-ed25519 SIM"+h.ProviderID) {
		t.Errorf("known_hosts: %v\n%s", err, known)
	}
	if code, _, errs := e.run("ssh", "misc", "server[9]"); code != 1 || !strings.Contains(errs, "hosts: client[0], server[0], server[1]") {
		t.Errorf("unknown host: %d %s", code, errs)
	}
	if code, _, errs := e.run("ssh", "misc", "server[1]", "uname"); code != 1 || !strings.Contains(errs, "after --") {
		t.Errorf("command without --: %d %s", code, errs)
	}
}

func TestVersionAndCompletion(t *testing.T) {
	e := newSimCLI(t, nil)
	if out := e.must("version"); !strings.HasPrefix(out, "diffuser ") {
		t.Errorf("version: %q", out)
	}
	for _, sh := range []string{"bash", "zsh", "fish", "powershell"} {
		out := e.must("completion", sh)
		if len(out) < 500 || !strings.Contains(out, "diffuser") {
			t.Errorf("completion %s: %d bytes", sh, len(out))
		}
	}
	// What the shell scripts ask: cobra's hidden __complete command.
	out := e.must("__complete", "plan", "")
	if !strings.Contains(out, "glusterfs\n") {
		t.Errorf("recipes are not completed:\n%s", out)
	}
	out = e.must("__complete", "apply", "x", "--progress", "")
	for _, m := range views.ProgressModes {
		if !strings.Contains(out, m+"\n") {
			t.Errorf("--progress does not complete %s:\n%s", m, out)
		}
	}
	e2, _ := miscEnv(t)
	if out := e2.must("__complete", "hosts", ""); !strings.Contains(out, "misc\n") {
		t.Errorf("workspaces are not completed:\n%s", out)
	}
	if out := e2.must("__complete", "ssh", "misc", ""); !strings.Contains(out, "server[1]\n") {
		t.Errorf("hosts are not completed:\n%s", out)
	}
	if out := e2.must("__complete", "logs", "hello", ""); !strings.Contains(out, "server[0]\n") {
		t.Errorf("logs hosts are not completed:\n%s", out)
	}
	for _, args := range [][]string{{"state", "rm", "misc", ""}, {"state", "rm", "misc", "server[0]", ""}, {"state", "mv", "misc", ""}} {
		out := e2.must(append([]string{"__complete"}, args...)...)
		if !strings.Contains(out, "server[1]\nstep.hello\nstep.hello[\"server[0]\"]\n") {
			t.Errorf("addresses are not completed for %q:\n%s", args, out)
		}
	}
}

// TestEveryCommandHasExample: --help shows examples for every command.
func TestEveryCommandHasExample(t *testing.T) {
	root := (&app{}).rootCmd()
	var walk func(c *cobra.Command)
	n := 0
	walk = func(c *cobra.Command) {
		if c.Hidden || c.Name() == "help" {
			return
		}
		n++
		if strings.TrimSpace(c.Example) == "" {
			t.Errorf("%q has no Example", c.CommandPath())
		}
		if strings.TrimSpace(c.Short) == "" {
			t.Errorf("%q has no Short description", c.CommandPath())
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
	if n < 20 {
		t.Errorf("only %d commands walked", n)
	}
	var help strings.Builder
	a := &app{stdout: &help, stderr: &help}
	if code := a.execute(t.Context(), []string{"bench", "--help"}); code != 0 || !strings.Contains(help.String(), "Examples:") {
		t.Errorf("bench --help: %d\n%s", code, help.String())
	}
}

func TestSSHTargetShowsJumpChain(t *testing.T) {
	s := state.SSH{Address: "192.0.2.11", Port: 2201, User: "alice",
		Jump: &state.SSH{Address: "192.0.2.40", User: "jump", Jump: &state.SSH{Address: "::1", Port: 2022, User: "outer"}}}
	if got, want := sshTarget(s), "alice@192.0.2.11:2201 via outer@[::1]:2022,jump@192.0.2.40:22"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

// TestRecipesListShowsRecipeModules: `recipes list` names the built-in
// recipes' own modules by path beside the standard library, each with its
// module_info description, and `recipes show` prints one of them.
func TestRecipesListShowsRecipeModules(t *testing.T) {
	e := newSimCLI(t, nil)
	out := e.must("recipes", "list")
	for _, want := range []string{"builtin/xfs-volume ", "builtin/ceph-conf ", "builtin/ganesha ", "orangefs/modules/build ", "ceph/modules/daemon ", "ceph/modules/dropin ", "moosefs/modules/daemon "} {
		if !strings.Contains(out, "\n"+want) {
			t.Errorf("recipes list lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "does not load") {
		t.Errorf("a module does not load:\n%s", out)
	}
	var list []views.RecipeJSON
	if err := json.Unmarshal([]byte(e.must("recipes", "list", "-json")), &list); err != nil {
		t.Fatal(err)
	}
	for _, r := range list {
		if r.Kind == "module" && strings.Contains(r.Name, "/modules/") && (!r.Valid || r.Description == "") {
			t.Errorf("recipe module %+v", r)
		}
	}
	show := e.must("recipes", "show", "moosefs/modules/daemon")
	if !strings.HasPrefix(show, "# moosefs/modules/daemon/main.hcl\n") || !strings.Contains(show, `step "service"`) {
		t.Errorf("recipes show moosefs/modules/daemon:\n%s", show)
	}
}

// TestRecipesVars: `recipes vars` lists every variable of a built-in
// recipe, of a standard-library module and of a recipe's own module, each
// with its type, default and what its constraints accept; every built-in
// loads; an unknown name is an error.
func TestRecipesVars(t *testing.T) {
	e := newSimCLI(t, nil)
	out := e.must("recipes", "vars", "ceph")
	for _, want := range []string{
		"\nosds (number, default 3): must be a whole number, at least 1\n    Number of OSD hosts",
		"\nclient_mount (string, default \"fuse\"): must be one of \"fuse\", \"kernel\"\n",
		"\npublic_network (string, default \"\"): must be a CIDR block such as \"10.0.0.0/16\" or empty (\"\")\n",
		"\nclient_id (string, default \"fsclient\"): must be an identifier: a letter, then letters, digits and \"_\"; plus a validation block (recipes show prints it)\n",
		"\nclients (number, default 1): must be a whole number, at least 0\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("recipes vars ceph lacks %q:\n%s", want, out)
		}
	}
	if !strings.HasPrefix(out, "monitors (number, default 1): must be a whole number; plus a validation block") {
		t.Errorf("recipes vars ceph starts:\n%s", out)
	}
	if out := e.must("recipes", "vars", "ceph/modules/dropin"); !strings.HasPrefix(out, `unit (string, required): must be a string matching the pattern "[A-Za-z0-9_][A-Za-z0-9_.@:-]*" as a whole`) {
		t.Errorf("recipes vars ceph/modules/dropin:\n%s", out)
	}
	if out := e.must("recipes", "vars", "nfs"); !strings.Contains(out, "\nexport_to (list(string), default []): each element must be a string matching the pattern") {
		t.Errorf("recipes vars nfs: a list's constraint is not said of each element:\n%s", out)
	}
	if out := e.must("recipes", "vars", "builtin/gvfs-mount"); !strings.Contains(out, "\nprotocol (string, required): must be one of \"nfs\", \"smb\"\n") {
		t.Errorf("recipes vars builtin/gvfs-mount:\n%s", out)
	}
	var names []string
	names = append(names, recipes.Names()...)
	for _, m := range lang.ModuleNames(recipes.Modules()) {
		names = append(names, lang.BuiltinPrefix+m)
	}
	for _, n := range names {
		var vs []views.VariableJSON
		if err := json.Unmarshal([]byte(e.must("recipes", "vars", n, "-json")), &vs); err != nil || len(vs) == 0 {
			t.Errorf("recipes vars %s -json: %v %v", n, err, vs)
		}
	}
	if code, _, errs := e.run("recipes", "vars", "nope"); code == 0 || !strings.Contains(errs, `no built-in recipe "nope"`) {
		t.Errorf("recipes vars nope: exit %d, %s", code, errs)
	}
	if code, _, errs := e.run("recipes", "vars", "builtin/nope"); code == 0 || !strings.Contains(errs, `no built-in module "nope"`) {
		t.Errorf("recipes vars builtin/nope: exit %d, %s", code, errs)
	}
	// show prints built-ins only: a recipe of one's own is told so, with
	// the command that lists its variables.
	mine := e.write("mine/main.hcl", miscRecipe)
	if code, _, errs := e.run("recipes", "show", mine); code == 0 || !strings.Contains(errs, mine+" is a path on disk, not a built-in") ||
		!strings.Contains(errs, "diffuser recipes vars "+mine) {
		t.Errorf("recipes show PATH: exit %d, %s", code, errs)
	}
	if code, _, errs := e.run("recipes", "show", "nope"); code == 0 || !strings.Contains(errs, `no built-in recipe "nope" (built-in: ceph, glusterfs,`) {
		t.Errorf("recipes show nope: exit %d, %s", code, errs)
	}
}

// TestRecipesVarsPath: a recipe of one's own, its main file and its own
// module directory are listed as apply takes them; a broken one names
// the file and line.
func TestRecipesVarsPath(t *testing.T) {
	e := newSimCLI(t, nil)
	dir := t.TempDir()
	write := func(p, s string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, p)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, p), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("mine/main.hcl", "recipe \"mine\" {}\nvariable \"clients\" {\n  type = number\n  default = 2\n  min = 1\n  description = \"Clients.\"\n}\n")
	write("mine/modules/x/main.hcl", "variable \"mount_point\" {\n  type = string\n  format = \"absolute_path\"\n}\n")
	write("broken/main.hcl", "recipe \"broken\" {}\nvariable \"v\" {\n  type = string\n  default = \"a\"\n  pattern = \"[a-z(\"\n}\n")
	for _, p := range []string{"mine", "mine/main.hcl"} {
		if out := e.must("recipes", "vars", filepath.Join(dir, p)); out != "clients (number, default 2): must be at least 1\n    Clients.\n" {
			t.Errorf("recipes vars %s:\n%s", p, out)
		}
	}
	if out := e.must("recipes", "vars", filepath.Join(dir, "mine/modules/x")); !strings.HasPrefix(out, "mount_point (string, required): must be an absolute path") {
		t.Errorf("recipes vars mine/modules/x:\n%s", out)
	}
	if code, _, errs := e.run("recipes", "vars", filepath.Join(dir, "broken")); code == 0 || !strings.Contains(errs, "main.hcl:5") || !strings.Contains(errs, "Invalid pattern") {
		t.Errorf("recipes vars broken: exit %d, %s", code, errs)
	}
	// recipes show prints built-ins only: a validation of one's own
	// module is pointed at in its file.
	write("mine/modules/y/main.hcl", "variable \"root\" {\n  type = string\n  validation {\n    condition = var.root != \"/\"\n    error_message = \"not /.\"\n  }\n}\n")
	y := filepath.Join(dir, "mine/modules/y")
	if out := e.must("recipes", "vars", y); out != "root (string, required): plus a validation block (at "+y+"/main.hcl:3)\n" {
		t.Errorf("recipes vars mine/modules/y:\n%s", out)
	}
}

// A sensitive variable's default is never shown.
func TestVariableLineSensitive(t *testing.T) {
	j := variableJSON(&lang.Variable{Name: "password", Type: cty.String, Default: cty.StringVal("s3cr3t"), Sensitive: true,
		Constraints: lang.Constraints{OneOf: []cty.Value{cty.StringVal("s3cr3t")}}})
	if j.Default != nil {
		t.Errorf("default %s", j.Default)
	}
	if got := variableLine(j, ""); got != `password (string, sensitive): must be one of "s3cr3t"` {
		t.Errorf("got %q", got)
	}
}

// TestOutputAfterDestroySaysWhy: a destroyed workspace has no outputs;
// output prints nothing on stdout (scripts read it) and says why on
// stderr, as terraform output warns, instead of printing nothing at all.
func TestOutputAfterDestroySaysWhy(t *testing.T) {
	e, recipe := miscEnv(t)
	if code, _, errs := e.run("output", "misc", "adress"); code == 0 || !strings.Contains(errs, `no output "adress" in workspace misc; it has address`) {
		t.Errorf("output of a misspelt name: exit %d, stderr %q, want the outputs it has", code, errs)
	}
	e.must("destroy", recipe, "-auto-approve", "--progress", "quiet")
	code, out, errs := e.run("output", "misc")
	if code != 0 || out != "" || !strings.Contains(errs, "No outputs: workspace misc has nothing deployed") {
		t.Errorf("output after destroy: exit %d\nstdout %q\nstderr %q", code, out, errs)
	}
	code, _, errs = e.run("output", "misc", "address")
	if code == 0 || !strings.Contains(errs, `no output "address": workspace misc has nothing deployed`) {
		t.Errorf("output NAME after destroy: exit %d, stderr %q, want it to say the workspace has nothing deployed", code, errs)
	}
	if out := e.must("output", "misc", "-json"); strings.TrimSpace(out) != "{}" {
		t.Errorf("output -json after destroy: %q, want {}", out)
	}
}

// TestBuiltinRecipesValidateAtBounds: each built-in recipe validates with
// each of its variables at its declared min (and max, up to 1000) and at
// each value of its one_of, one variable at a time: what `recipes vars`
// says is allowed is allowed. A precondition across variables may still
// refuse a value with the others at their defaults (servers=1 with
// replica 2); any other error is a fault of the recipe (moosefs with
// clients=0 indexed hosts.client[0]).
func TestBuiltinRecipesValidateAtBounds(t *testing.T) {
	e := newSimCLI(t, nil)
	tried := 0
	for _, r := range recipes.Names() {
		var vs []views.VariableJSON
		if err := json.Unmarshal([]byte(e.must("recipes", "vars", r, "-json")), &vs); err != nil {
			t.Fatalf("recipes vars %s -json: %v", r, err)
		}
		for _, v := range vs {
			for _, val := range boundValues(t, v.Constraints) {
				tried++
				code, _, errs := e.run("validate", r, "-var", v.Name+"="+val)
				if code != 0 && !strings.Contains(errs, "Error: Precondition of hosts") {
					t.Errorf("validate %s -var %s=%s:\n%s", r, v.Name, val, errs)
				}
			}
		}
	}
	if tried < 20 {
		t.Errorf("only %d values tried", tried)
	}
}

// boundValues are the -var values c names: its min, its max up to 1000,
// each one_of value.
func boundValues(t *testing.T, c *views.ConstraintsJSON) []string {
	t.Helper()
	if c == nil {
		return nil
	}
	var out []string
	if len(c.Min) > 0 {
		out = append(out, string(c.Min))
	}
	var max float64
	if len(c.Max) > 0 && json.Unmarshal(c.Max, &max) == nil && max <= 1000 {
		out = append(out, string(c.Max))
	}
	var oneOf []any
	if len(c.OneOf) > 0 {
		if err := json.Unmarshal(c.OneOf, &oneOf); err != nil {
			t.Fatalf("one_of %s: %v", c.OneOf, err)
		}
	}
	for _, o := range oneOf {
		if s, ok := o.(string); ok {
			out = append(out, s)
		} else {
			out = append(out, strconv.FormatFloat(o.(float64), 'f', -1, 64))
		}
	}
	return out
}

// TestGlusterfsMountPoint: the glusterfs recipe's clients mount where
// mount_point says (the mount step's target and the verify path), and a
// value that is not a plain absolute path is refused before anything
// reads it.
func TestGlusterfsMountPoint(t *testing.T) {
	e := newSimCLI(t, nil)
	out := e.must("plan", "glusterfs", "-var", "mount_point=/srv/gv0")
	if !strings.Contains(out, `target  = "/srv/gv0"`) && !strings.Contains(out, `target = "/srv/gv0"`) {
		t.Errorf("plan with mount_point=/srv/gv0 does not mount there:\n%s", out)
	}
	if strings.Contains(out, "/mnt/gluster") {
		t.Errorf("plan with mount_point=/srv/gv0 still names /mnt/gluster:\n%s", out)
	}
	for _, bad := range []string{"relative/dir", "/mnt/a b", "/mnt/x;reboot", "/"} {
		code, _, errs := e.run("validate", "glusterfs", "-var", "mount_point="+bad)
		if code == 0 || !strings.Contains(errs, "mount_point") {
			t.Errorf("validate -var mount_point=%q: exit %d, want a refusal naming the variable:\n%s", bad, code, errs)
		}
	}
}

// recipes vars ./mine, as the docs write it, points at the validation in
// mine/main.hcl: the loader names the file mine/main.hcl, which does not
// start with "./mine/", so the path was prefixed again (mine/mine/main.hcl).
func TestRecipesVarsValidationAtRelative(t *testing.T) {
	e := newSimCLI(t, nil)
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "mine"), 0o755); err != nil {
		t.Fatal(err)
	}
	src := "recipe \"mine\" {}\nvariable \"n\" {\n  type = number\n  validation {\n    condition     = var.n > 0\n    error_message = \"n > 0.\"\n  }\n}\n"
	if err := os.WriteFile(filepath.Join(dir, "mine", "main.hcl"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	for _, p := range []string{"./mine", "mine", "mine/", "./mine/"} {
		if out := e.must("recipes", "vars", p); out != "n (number, required): plus a validation block (at mine/main.hcl:4)\n" {
			t.Errorf("recipes vars %s:\n%s", p, out)
		}
	}
}
