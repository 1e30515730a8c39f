package workspace

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
)

const twoGroups = `recipe "two" {}
variable "servers" {
  type    = number
  default = 2
}
hosts "server" {
  count = var.servers
  volume "brick" { size_gb = 1 }
}
hosts "client" {}
step "hello" {
  on  = hosts.server
  run = "true"
}
`

func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, src := range files {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func diagsOf(t *testing.T, err error) hcl.Diagnostics {
	t.Helper()
	var de *DiagError
	if !errors.As(err, &de) {
		t.Fatalf("want diagnostics, got %v", err)
	}
	return de.Diags
}

// TestCheckSettingsOnceAndLocated: a provider-wide mistake shared by every
// group is one error at its line; too few addresses points at the group's
// addresses; validate (CheckSettings) and plan fail alike; destroy does
// not ask for hosts the recipe needs.
func TestCheckSettingsOnceAndLocated(t *testing.T) {
	dir := writeFiles(t, map[string]string{"main.hcl": twoGroups, "site.hcl": `provider "static" {
  port = 99999
  hosts "server" {
    addresses = ["10.0.0.1"]
    volumes   = { brick = "/dev/sdb" }
  }
  hosts "client" {
    addresses = ["10.0.0.9"]
  }
}
`})
	e := &Env{DataDir: filepath.Join(dir, ".diffuser")}
	in := Inputs{Recipe: filepath.Join(dir, "main.hcl"), Site: filepath.Join(dir, "site.hcl"), Provider: "static"}
	ws, err := e.Load(in)
	if err != nil {
		t.Fatal(err)
	}
	diags := diagsOf(t, ws.CheckSettings())
	var got []string
	for _, d := range diags {
		got = append(got, d.Summary+"@"+filepath.Base(d.Subject.Filename)+":"+itoa(d.Subject.Start.Line))
	}
	want := "Invalid port@site.hcl:2,Too few hosts in the site file@site.hcl:4"
	if strings.Join(got, ",") != want {
		t.Errorf("diagnostics %v, want %s", got, want)
	}
	if !strings.Contains(diags[1].Detail, "main.hcl:7") {
		t.Errorf("the too-few error does not say where the recipe sets the count: %s", diags[1].Detail)
	}

	_, err = e.Plan(context.Background(), PlanRequest{Inputs: in, Command: "plan"})
	if d := diagsOf(t, err); len(d) != 2 {
		t.Errorf("plan: %v", d)
	}
	if _, err := os.Stat(e.DataDir); err == nil {
		t.Error("a plan refused for its site file created the data directory")
	}
	_, err = e.Plan(context.Background(), PlanRequest{Inputs: in, Command: "destroy", Destroy: true})
	if d := diagsOf(t, err); len(d) != 1 || d[0].Summary != "Invalid port" {
		t.Errorf("destroy: %v, want only the port", d)
	}

	v := e.Validate(in)
	if v.Valid() || len(v.Diags) != 2 {
		t.Errorf("Validate: %v", v.Diags)
	}

	// No site at all: the recipe's group is where the hosts are missing.
	in.Site = filepath.Join(dir, "none.hcl")
	if err := os.WriteFile(in.Site, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	v = e.Validate(in)
	if len(v.Diags) != 3 || v.Diags[0].Subject.Filename != in.Recipe || v.Diags[0].Subject.Start.Line != 6 ||
		v.Diags[1].Summary != "Missing volume device" || !strings.Contains(v.Diags[2].Detail, "one host by default") {
		for _, d := range v.Diags {
			t.Errorf("Validate without static settings: %s: %s (%s)", d.Subject, d.Summary, d.Detail)
		}
	}
}

// TestOneMachineInTwoGroups: a machine a static site lists in two host
// groups (root@H:22 and h, one machine) is a warning at the second
// address naming both hosts, from validate and plan alike; an address
// listed but beyond the recipe's count is no host and no warning.
func TestOneMachineInTwoGroups(t *testing.T) {
	dir := writeFiles(t, map[string]string{"main.hcl": twoGroups, "site.hcl": `provider "static" {
  hosts "server" {
    addresses = ["10.0.0.1", "h", "10.0.0.3"]
    volumes   = { brick = "/dev/sdb" }
  }
  hosts "client" {
    addresses = ["root@H:22"]
  }
}
`})
	e := &Env{DataDir: filepath.Join(dir, ".diffuser")}
	in := Inputs{Recipe: filepath.Join(dir, "main.hcl"), Site: filepath.Join(dir, "site.hcl"), Provider: "static"}
	v := e.Validate(in)
	var got []string
	for _, d := range v.Diags {
		got = append(got, d.Summary+"@"+filepath.Base(d.Subject.Filename)+":"+itoa(d.Subject.Start.Line)+": "+d.Detail)
	}
	if !v.Valid() || len(got) != 1 || !strings.HasPrefix(got[0], "One machine in two host groups@site.hcl:7: server[1] and client[0] are the same machine (root@H:22)") {
		t.Errorf("validate: %q, want one warning at site.hcl:7", got)
	}
	pl, err := e.Plan(context.Background(), PlanRequest{Inputs: in, Command: "plan"})
	if err != nil {
		t.Fatal(err)
	}
	defer pl.Close()
	if n := countSummary(pl.WS.Warnings, "One machine in two host groups"); n != 1 {
		t.Errorf("plan: %d warnings of one machine in two groups: %v", n, pl.WS.Warnings)
	}
	// The client on the third address, which servers = 2 leaves unused.
	if err := os.WriteFile(in.Site, []byte(strings.Replace(string(mustRead(t, in.Site)), "root@H:22", "10.0.0.3", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	if v := e.Validate(in); len(v.Diags) != 0 {
		t.Errorf("an address beyond the count: %v", v.Diags)
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestValidateNotDiagnostic: a failure that is no diagnostic comes back as
// one, without a range.
func TestValidateNotDiagnostic(t *testing.T) {
	v := (&Env{}).Validate(Inputs{Recipe: filepath.Join(t.TempDir(), "nothing-here")})
	if v.Valid() || len(v.Diags) != 1 || v.Diags[0].Subject != nil || !strings.Contains(v.Diags[0].Summary, "no recipe") {
		t.Errorf("Validate of a missing recipe: %v", v.Diags)
	}
	dir := writeFiles(t, map[string]string{"main.hcl": twoGroups})
	v = (&Env{}).Validate(Inputs{Recipe: dir})
	if !v.Valid() || v.Recipe != "two" || v.Hosts != 3 || v.Instances != 2 {
		t.Errorf("Validate of a good recipe: %+v", v)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// TestUnusedProviderBlocksChecked: a site file's provider block that this
// command does not launch on is still checked: a provider diffuser does
// not have, a setting its provider does not take, a value of the wrong
// type are errors at their line (plan and validate); destroy does not
// look at them; a correct unused block changes nothing.
func TestUnusedProviderBlocksChecked(t *testing.T) {
	const static = `provider "static" {
  hosts "server" {
    addresses = ["10.0.0.1", "10.0.0.2"]
    volumes   = { brick = "/dev/sdb" }
  }
  hosts "client" {
    addresses = ["10.0.0.9"]
  }
}
`
	for _, c := range []struct {
		name, extra, want string // want: "Summary@line: detail part", "" for none
	}{
		{"correct aws block", `provider "aws" {
  region        = "eu-west-1"
  instance_type = "t3.medium"
  hosts "server" {
    instance_type = "m5.large"
  }
}
`, ""},
		{"unknown provider", `provider "awss" {
  region = "eu-west-1"
}
`, `Unknown provider@11: diffuser has no provider "awss": did you mean "aws"? (diffuser has aws, docker, static).`},
		{"unknown provider far from any", `provider "openstack" {}
`, `Unknown provider@11: diffuser has no provider "openstack": use one of aws, docker, static.`},
		{"setting the provider does not take", `provider "aws" {
  region   = "eu-west-1"
  packages = ["ceph"]
}
`, `Unsupported argument@13: Provider aws is not used by this command`},
		{"wrong type", `provider "docker" {
  cpus = "many"
}
`, `@12: Provider docker is not used`},
		{"two labels", `provider "aws" "east" {
}
`, ``},
		{"typo in an unused group override", `provider "aws" {
  hosts "server" {
    instance_typ = "m5.large"
  }
}
`, `Unsupported argument@13: "instance_typ"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := writeFiles(t, map[string]string{"main.hcl": twoGroups, "site.hcl": static + "\n" + c.extra})
			e := &Env{DataDir: filepath.Join(dir, ".diffuser")}
			in := Inputs{Recipe: filepath.Join(dir, "main.hcl"), Site: filepath.Join(dir, "site.hcl"), Provider: "static"}
			ws, err := e.Load(in)
			if c.name == "two labels" {
				// Two labels on a provider block is the site file's own
				// error, at load.
				if err == nil {
					t.Fatal("a provider block with two labels loaded")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			err = ws.CheckSettings()
			if c.want == "" {
				if err != nil {
					t.Fatalf("CheckSettings: %v", err)
				}
				return
			}
			diags := diagsOf(t, err)
			if len(diags) != 1 {
				t.Fatalf("diagnostics %v, want one", diags)
			}
			d := diags[0]
			sumLine, part, _ := strings.Cut(c.want, ": ")
			sum, line, _ := strings.Cut(sumLine, "@")
			if (sum != "" && d.Summary != sum) || d.Subject == nil || itoa(d.Subject.Start.Line) != line ||
				filepath.Base(d.Subject.Filename) != "site.hcl" || !strings.Contains(d.Detail, part) {
				t.Errorf("got %s at %v: %s; want %s", d.Summary, d.Subject, d.Detail, c.want)
			}
			if v := e.Validate(in); v.Valid() {
				t.Error("validate passed")
			}
			if _, err := e.Plan(context.Background(), PlanRequest{Inputs: in, Command: "plan"}); err == nil {
				t.Error("plan passed")
			}
			if _, err := e.Plan(context.Background(), PlanRequest{Inputs: in, Command: "destroy", Destroy: true}); err != nil {
				t.Errorf("destroy refused for an unused block: %v", err)
			}
		})
	}
}

// TestUnknownProviderSaysWhere: a provider name diffuser does not have is
// refused naming where it came from: the site file's default_provider (an
// error at its line, with the nearest name), or the -provider flag.
func TestUnknownProviderSaysWhere(t *testing.T) {
	dir := writeFiles(t, map[string]string{"main.hcl": twoGroups, "site.hcl": "# where\ndefault_provider = \"dockr\"\n"})
	e := &Env{DataDir: filepath.Join(dir, ".diffuser")}
	_, err := e.Load(Inputs{Recipe: filepath.Join(dir, "main.hcl"), Site: filepath.Join(dir, "site.hcl")})
	d := diagsOf(t, err)
	if len(d) != 1 || d[0].Summary != "Unknown provider" || d[0].Subject == nil || d[0].Subject.Start.Line != 2 ||
		filepath.Base(d[0].Subject.Filename) != "site.hcl" || !strings.Contains(d[0].Detail, `did you mean "docker"?`) {
		t.Errorf("default_provider typo: %v", d)
	}
	_, err = e.Load(Inputs{Recipe: filepath.Join(dir, "main.hcl"), Site: filepath.Join(dir, "site.hcl"), Provider: "stattic"})
	if err == nil || !strings.Contains(err.Error(), `unknown provider "stattic" (-provider): did you mean "static"?`) {
		t.Errorf("-provider typo: %v", err)
	}
	_, err = e.Load(Inputs{Recipe: filepath.Join(dir, "main.hcl"), Site: filepath.Join(dir, "site.hcl"), Provider: "openstack"})
	if err == nil || !strings.Contains(err.Error(), "use one of aws, docker, static") {
		t.Errorf("-provider unknown: %v", err)
	}
}

// TestValidateNamesCallsTurnedOff: validate lists the module calls that
// are off (outermost only, with where), whose steps it does not count.
func TestValidateNamesCallsTurnedOff(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"main.hcl": `recipe "offcalls" {}
variable "wrap" {
  type    = bool
  default = false
}
hosts "node" {}
module "outer" {
  source = "./m/outer"
  on     = hosts.node
  lifecycle {
    enabled = var.wrap
  }
}
`,
		"m/outer/main.hcl": "step \"own\" { run = \"true\" }\nmodule \"inner\" { source = \"../inner\" }\n",
		"m/inner/main.hcl": "step \"deep\" { run = \"true\" }\n",
	})
	v := (&Env{}).Validate(Inputs{Recipe: dir})
	if want := []string{"module.outer (lifecycle enabled is false at " + filepath.Join(dir, "main.hcl") + ":11)"}; !v.Valid() || v.Instances != 0 || !reflect.DeepEqual(v.Off, want) {
		t.Errorf("Validate with a call off: %+v, want Off %q", v, want)
	}
	v = (&Env{}).Validate(Inputs{Recipe: dir, Vars: []string{"wrap=true"}})
	if !v.Valid() || v.Instances != 2 || len(v.Off) != 0 {
		t.Errorf("Validate with the call on: %+v", v)
	}
}

func countSummary(diags hcl.Diagnostics, summary string) int {
	n := 0
	for _, d := range diags {
		if d.Summary == summary {
			n++
		}
	}
	return n
}

// TestSettingsOfTheWrongTypeHideNoOtherMistake: a setting whose value is
// of the wrong type (cpus = "many", a string where a list belongs) is an
// error at its line, and every other mistake of the same block is
// reported with it, as the docker provider reports all of its own at
// once: validate and plan reported the type errors alone, and the rest
// (memory = "lots", a suite in capitals, a null package) waited for the
// run after they were fixed. The setting of the wrong type gets no second
// error of its own.
func TestSettingsOfTheWrongTypeHideNoOtherMistake(t *testing.T) {
	dir := writeFiles(t, map[string]string{"main.hcl": twoGroups, "site.hcl": `provider "docker" {
  memory      = "lots"
  cpus        = "many"
  suite       = "Bookworm"
  extra_hosts = "deb.debian.org:192.0.2.1"
  packages    = ["jq", null]
  hosts "client" {
    volume_dir = "relative"
    networks   = "lab"
  }
}
`})
	e := &Env{DataDir: filepath.Join(dir, ".diffuser")}
	in := Inputs{Recipe: filepath.Join(dir, "main.hcl"), Site: filepath.Join(dir, "site.hcl"), Provider: "docker"}
	ws, err := e.Load(in)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range diagsOf(t, ws.CheckSettings()) {
		got = append(got, d.Summary+"@"+itoa(d.Subject.Start.Line))
	}
	want := []string{"Invalid docker setting@2", "Incorrect attribute value type@3", "Invalid docker setting@4",
		"Incorrect attribute value type@5", "Invalid docker setting@6", "Invalid docker setting@8", "Incorrect attribute value type@9"}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("diagnostics\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if v := e.Validate(in); len(v.Diags) != len(want) {
		t.Errorf("validate: %d diagnostics, want %d: %v", len(v.Diags), len(want), v.Diags)
	}
}
