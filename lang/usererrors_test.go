package lang_test

import (
	"strings"
	"testing"
	"testing/fstest"

	"diffuser/engine"
	"diffuser/lang"
	"diffuser/recipes"
	"diffuser/steps/builtin"
)

// Mistakes a user made writing recipes from docs/writing-recipes.md: each
// error must say what to write instead, in the user's own terms.
func TestUserMistakeDetails(t *testing.T) {
	module := "variable \"word\" { type = string }\nstep \"x\" { run = \"echo ${var.word}\" }\n"
	cases := []struct {
		name  string
		files fstest.MapFS
		want  []string // in the error's detail
		not   []string
		line  int // of the first error, when not 0
	}{
		{
			name: "module directory misspelt",
			files: fstest.MapFS{
				"main.hcl":                   {Data: []byte("recipe \"t\" {}\nhosts \"c\" {}\nmodule \"m\" {\n  source = \"./modules/sshfs_client\"\n  on = hosts.c\n  word = \"a\"\n}\n")},
				"modules/sshfs-client/m.hcl": {Data: []byte(module)},
			},
			want: []string{`./modules/sshfs_client: there is no directory modules/sshfs_client in the recipe. Did you mean "./modules/sshfs-client"?`},
			not:  []string{"open ", "file does not exist"},
		},
		{
			name: "module directory missing, others beside it",
			files: fstest.MapFS{
				"main.hcl":            {Data: []byte("recipe \"t\" {}\nhosts \"c\" {}\nmodule \"m\" {\n  source = \"./modules/zzzzzzzz\"\n  on = hosts.c\n  word = \"a\"\n}\n")},
				"modules/other/m.hcl": {Data: []byte(module)},
			},
			want: []string{"Directories beside it: other."},
		},
		{
			name: "count on a module call",
			files: fstest.MapFS{
				"main.hcl": {Data: []byte("recipe \"t\" {}\nhosts \"c\" {}\nmodule \"m\" {\n  source = \"./m\"\n  on = hosts.c\n  count = 2\n  word = \"a\"\n}\n")},
				"m/m.hcl":  {Data: []byte(module)},
			},
			want: []string{"count is not supported", "once per host of the call's on"},
			not:  []string{"for order"},
		},
		{
			name: "pattern that does not compile",
			files: fstest.MapFS{
				"main.hcl": {Data: []byte("recipe \"t\" {}\nvariable \"v\" {\n  type = string\n  default = \"a\"\n  pattern = \"[a-z(\"\n}\n")},
			},
			want: []string{"`[a-z(`"},
			not:  []string{"(?:", ")$"},
		},
		{
			name: "template reads a variable the call does not pass",
			files: fstest.MapFS{
				"main.hcl":     {Data: []byte("recipe \"t\" {}\nlocals {\n  conf = templatefile(\"smb.conf.tpl\", { share = \"data\" })\n}\noutput \"o\" { value = local.conf }\n")},
				"smb.conf.tpl": {Data: []byte("[${share}]\nmax smbd processes = ${cores * 64}\n")},
			},
			want: []string{`smb.conf.tpl line 2: Unknown variable: There is no variable named "cores"`, "add cores = ... to it; it passes share"},
			not:  []string{`"cores"..`, "Unknown variable;"},
		},
		{
			name: "template file name misspelt",
			files: fstest.MapFS{
				"main.hcl":     {Data: []byte("recipe \"t\" {}\nlocals {\n  conf = templatefile(\"smb.conf.tmpl\", {})\n}\noutput \"o\" { value = local.conf }\n")},
				"smb.conf.tpl": {Data: []byte("[global]\n")},
			},
			want: []string{`did you mean "smb.conf.tpl"`},
		},
		{
			name: "kind block misspelt",
			files: fstest.MapFS{
				"main.hcl": {Data: []byte("recipe \"t\" {}\nhosts \"s\" {}\nstep \"ready\" {\n  on = hosts.s\n  wiat { port = 445 }\n}\n")},
			},
			want: []string{`There is no block "wiat" in a step. Did you mean "wait"?`, "file, format, mount"},
		},
		{
			name: "lifecycle block misspelt",
			files: fstest.MapFS{
				"main.hcl": {Data: []byte("recipe \"t\" {}\nhosts \"c\" {}\nmodule \"m\" {\n  source = \"./m\"\n  on = hosts.c\n  word = \"a\"\n  lifecyle {\n    enabled = true\n  }\n}\n")},
				"m/m.hcl":  {Data: []byte(module)},
			},
			want: []string{`"lifecyle" is not one of them. Did you mean "lifecycle"?`},
		},
		{
			name: "restart_on on a module call without a service step",
			files: fstest.MapFS{
				"main.hcl": {Data: []byte("recipe \"t\" {}\nhosts \"c\" {}\nstep \"conf\" {\n  on = hosts.c\n  run = \"true\"\n}\nmodule \"m\" {\n  source = \"builtin/xfs-volume\"\n  on = hosts.c\n  device = \"/dev/sdb\"\n  target = \"/data\"\n  restart_on = [step.conf]\n}\n")},
			},
			want: []string{"Module call restarts nothing", "module.m (builtin/xfs-volume) has none"},
			not:  []string{"Its inputs:", "has no variable"},
		},
		{
			name: "a module call both restarts and reloads on one step",
			files: fstest.MapFS{
				"main.hcl": {Data: []byte("recipe \"t\" {}\nhosts \"c\" {}\nstep \"conf\" {\n  on = hosts.c\n  run = \"true\"\n}\nmodule \"m\" {\n  source = \"builtin/systemd-unit\"\n  on = hosts.c\n  name = \"web\"\n  content = \"[Service]\"\n  restart_on = [step.conf]\n  reload_on = [step.conf]\n}\n")},
			},
			want: []string{`Module call "m" lists step.conf in restart_on and in reload_on`},
		},
		{
			name: "restart_on misspelt on a module call",
			files: fstest.MapFS{
				"main.hcl": {Data: []byte("recipe \"t\" {}\nhosts \"c\" {}\nstep \"conf\" {\n  on = hosts.c\n  run = \"true\"\n}\nmodule \"m\" {\n  source = \"builtin/systemd-unit\"\n  on = hosts.c\n  name = \"web\"\n  content = \"[Service]\"\n  restat_on = [step.conf]\n}\n")},
			},
			want: []string{"Did you mean restart_on, the call's own argument (the module's service steps restart when these change)?"},
		},
		{
			name: "module directory without ./",
			files: fstest.MapFS{
				"main.hcl":             {Data: []byte("recipe \"t\" {}\nhosts \"c\" {}\nmodule \"m\" {\n  source = \"modules/client\"\n  on = hosts.c\n  word = \"a\"\n}\n")},
				"modules/client/m.hcl": {Data: []byte(module)},
			},
			want: []string{`Did you mean "./modules/client"?`},
		},
		{
			name: "built-in module without builtin/",
			files: fstest.MapFS{
				"main.hcl": {Data: []byte("recipe \"t\" {}\nhosts \"c\" {}\nmodule \"m\" {\n  source = \"xfs-volume\"\n  on = hosts.c\n}\n")},
			},
			want: []string{`Did you mean "builtin/xfs-volume"?`},
		},
		{
			name: "module source from a variable",
			files: fstest.MapFS{
				"main.hcl":             {Data: []byte("recipe \"t\" {}\nvariable \"kind\" {\n  type = string\n  default = \"client\"\n}\nhosts \"c\" {}\nmodule \"m\" {\n  source = \"./modules/${var.kind}\"\n  on = hosts.c\n  word = \"a\"\n}\n")},
				"modules/client/m.hcl": {Data: []byte(module)},
			},
			want: []string{"write it as a literal string"},
			not:  []string{"Variables may not be used here"},
		},
		{
			name: "service restarts on itself",
			files: fstest.MapFS{
				"main.hcl": {Data: []byte("recipe \"t\" {}\nhosts \"s\" {}\nstep \"d\" {\n  on = hosts.s\n  reload_on = [step.d]\n  service { name = \"d\" }\n}\n")},
			},
			want: []string{`Step "d" lists itself in reload_on; remove it.`},
		},
		{
			name: "object attribute misspelt at a module call",
			files: fstest.MapFS{
				"main.hcl": {Data: []byte("recipe \"t\" {}\nhosts \"c\" {}\nmodule \"m\" {\n  source = \"./m\"\n  on = hosts.c\n  export = { path = \"/x\", client = [] }\n}\n")},
				"m/m.hcl":  {Data: []byte("variable \"export\" {\n  type = object({ path = string, clients = list(string) })\n}\nstep \"x\" { run = \"echo ${var.export.path}\" }\n")},
			},
			want: []string{`attribute "clients" is required. The value has client, which the type does not: did you mean clients?`},
		},
		{
			// hosts.<group>[i], which the message used to advise, is
			// refused in enabled too: the advice is the docs'.
			name: "lifecycle enabled reads host",
			files: fstest.MapFS{
				"main.hcl": {Data: []byte("recipe \"t\" {}\nhosts \"web\" {}\nmodule \"m\" {\n  source = \"./m\"\n  on = hosts.web\n  word = \"a\"\n  lifecycle {\n    enabled = host.facts.os.id == \"debian\"\n  }\n}\n")},
				"m/m.hcl":  {Data: []byte(module)},
			},
			want: []string{"before hosts exist: use variables and locals", "A choice per host belongs in the module's steps", "precondition block of a step"},
			not:  []string{"hosts.<group>[i]"},
		},
		{
			name: "lifecycle enabled reads hosts",
			files: fstest.MapFS{
				"main.hcl": {Data: []byte("recipe \"t\" {}\nhosts \"web\" {}\nmodule \"m\" {\n  source = \"./m\"\n  on = hosts.web\n  word = \"a\"\n  lifecycle {\n    enabled = length(hosts.web) > 0\n  }\n}\n")},
				"m/m.hcl":  {Data: []byte(module)},
			},
			want: []string{"use variables and locals", "A choice per host belongs in the module's steps"},
		},
		{
			name: "host count reads host",
			files: fstest.MapFS{
				"main.hcl": {Data: []byte("recipe \"t\" {}\nhosts \"web\" {\n  count = host.index\n}\n")},
			},
			want: []string{"a host count has none. It is decided before hosts exist: use variables and locals."},
			not:  []string{"hosts.<group>[i]"},
		},
		{
			name: "volume size reads host",
			files: fstest.MapFS{
				"main.hcl": {Data: []byte("recipe \"t\" {}\nhosts \"web\" {\n  volume \"d\" { size_gb = host.index + 1 }\n}\n")},
			},
			want: []string{"use variables and locals"},
			not:  []string{"hosts.<group>[i]"},
		},
		{
			name: "precondition reads host",
			files: fstest.MapFS{
				"main.hcl": {Data: []byte("recipe \"t\" {}\nhosts \"web\" {}\nprecondition {\n  condition = host.facts.cores > 1\n  error_message = \"x\"\n}\n")},
			},
			want: []string{"use variables and locals", "precondition block of a step on them"},
			not:  []string{"hosts.<group>[i]"},
		},
		{
			name: "module local reads host",
			files: fstest.MapFS{
				"main.hcl": {Data: []byte("recipe \"t\" {}\nhosts \"web\" {}\nmodule \"m\" {\n  source = \"./m\"\n  on = hosts.web\n  word = \"a\"\n}\n")},
				"m/m.hcl":  {Data: []byte("variable \"word\" { type = string }\nlocals { n = host.name }\nstep \"x\" { run = \"echo ${local.n}\" }\n")},
			},
			want: []string{"a local has none. A module cannot read hosts either", "var.servers[i]"},
			not:  []string{"hosts.<group>[i]"},
		},
		{
			name: "object attribute misspelt in a variable default",
			files: fstest.MapFS{
				"main.hcl": {Data: []byte("recipe \"t\" {}\nvariable \"export\" {\n  type = object({ path = string, clients = list(string) })\n  default = { path = \"/x\", clinets = [] }\n}\n")},
			},
			want: []string{"did you mean clients?"},
		},
		{
			// A shell variable in braces is HCL's interpolation: the
			// error said only that "f" is no valid root.
			name: "shell variable in braces in a command",
			files: fstest.MapFS{
				"main.hcl": {Data: []byte("recipe \"t\" {}\nhosts \"c\" {}\nstep \"x\" {\n  on  = hosts.c\n  run = \"for f in /srv/*; do echo ${f}; done\"\n}\n")},
			},
			want: []string{`"f" is not something a recipe can refer to`, "write $${f}", "HCL reads $${ as a literal ${"},
		},
		{
			name: "shell variable in a heredoc, strip marker",
			files: fstest.MapFS{
				"main.hcl": {Data: []byte("recipe \"t\" {}\nhosts \"c\" {}\nstep \"x\" {\n  on  = hosts.c\n  run = <<-EOT\n    echo ${~ HOME}/x\n  EOT\n}\n")},
			},
			want: []string{`"HOME" is not something`, "write $${HOME}"},
		},
		{
			name: "unknown root outside a string",
			files: fstest.MapFS{
				"main.hcl": {Data: []byte("recipe \"t\" {}\nhosts \"c\" {}\nstep \"x\" {\n  on  = hosts.c\n  run = path.module\n}\n")},
			},
			want: []string{`"path" is not something a recipe can refer to`},
			not:  []string{"$${"},
		},
		{
			// The shorthand's value is the kind's names (command): the
			// error named that argument, which the recipe does not write.
			name: "package shorthand given a string",
			files: fstest.MapFS{
				"main.hcl": {Data: []byte("recipe \"t\" {}\nhosts \"c\" {}\nstep \"x\" {\n  on      = hosts.c\n  package = \"rsync curl\"\n}\n")},
			},
			want: []string{"package must be a list of package names", `package = ["rsync", "xfsprogs"]`},
			not:  []string{"names must be"},
		},
		{
			name: "run shorthand given a list",
			files: fstest.MapFS{
				"main.hcl": {Data: []byte("recipe \"t\" {}\nhosts \"c\" {}\nstep \"x\" {\n  on  = hosts.c\n  run = [\"a\", \"b\"]\n}\n")},
			},
			want: []string{"run must be a shell command, a string", "heredoc"},
			not:  []string{"command must be"},
		},
		{
			// The misspelt source was taken for an input and the error
			// pointed at the block's header, saying to add a source.
			name: "module source misspelt",
			files: fstest.MapFS{
				"main.hcl": {Data: []byte("recipe \"t\" {}\nhosts \"c\" {}\nmodule \"m\" {\n  sourc = \"./m\"\n  on    = hosts.c\n  word  = \"a\"\n}\n")},
				"m/m.hcl":  {Data: []byte(module)},
			},
			want: []string{`Did you mean source for "sourc"? Module "m" must say where it comes from`},
			line: 4,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, diags := engine.Load(lang.Source{FS: tc.files, Dir: ".", Display: "t", Modules: recipes.Modules()}, lang.Inputs{}, builtin.Kinds())
			if !diags.HasErrors() {
				t.Fatal("no error")
			}
			detail := diagString(diags)
			for _, d := range diags {
				if d.Subject == nil {
					t.Errorf("%q has no file and line", d.Summary)
				}
			}
			if tc.line != 0 && diags[0].Subject != nil && diags[0].Subject.Start.Line != tc.line {
				t.Errorf("error at line %d, want %d:%s", diags[0].Subject.Start.Line, tc.line, detail)
			}
			for _, w := range tc.want {
				if !strings.Contains(detail, w) {
					t.Errorf("error does not say %q:%s", w, detail)
				}
			}
			for _, n := range tc.not {
				if strings.Contains(detail, n) {
					t.Errorf("error still says %q:%s", n, detail)
				}
			}
		})
	}
}
