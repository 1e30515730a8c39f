package main

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"diffuser/views"
)

const rememberRecipe = `recipe "remember" {
  description = "a cluster sized by variables"
}

variable "servers" {
  type    = number
  default = 1
}

variable "clients" {
  type    = number
  default = 1
}

variable "token" {
  type      = string
  default   = "none"
  sensitive = true
}

hosts "server" { count = var.servers }
hosts "client" { count = var.clients }

step "serve" {
  on  = hosts.server
  run = "serve --token ${shellquote(var.token)}"
}

step "mount" {
  on  = hosts.client
  run = "mount ${hosts.server[0].private_ip}:/vol /mnt/fs"
}
`

const rememberSecret = "TOKEN-SECRET-5150"

func rememberEnv(t *testing.T) (*simCLI, string) {
	t.Helper()
	e := newSimCLI(t, func(host, cmd string) (time.Duration, int, string) { return 0, 0, "" })
	return e, e.write("remember/main.hcl", rememberRecipe)
}

// TestRememberedInputsCLI: apply -var servers=3 -var clients=2, then a
// plain plan says "No changes" and names the remembered values it used
// (text and JSON); diffuser vars shows them; -var overrides one; a saved
// plan made with them applies; -remembered=false plans the defaults; a
// plain destroy uses them.
func TestRememberedInputsCLI(t *testing.T) {
	e, recipe := rememberEnv(t)
	e.must("apply", recipe, "-provider", "sim", "-var", "servers=3", "-var", "clients=2", "-auto-approve", "--progress", "quiet")

	out := e.must("plan", recipe)
	want := "Using remembered inputs from the last apply (diffuser vars remember): clients = 2, servers = 3, provider = sim\n\nNo changes."
	if !strings.Contains(out, want) {
		t.Errorf("plain plan after apply:\n%s\nwant it to contain:\n%s", out, want)
	}

	var plan struct {
		FormatVersion string `json:"format_version"`
		Remembered    struct {
			Workspace string                     `json:"workspace"`
			Variables map[string]json.RawMessage `json:"variables"`
			Provider  string                     `json:"provider"`
		} `json:"remembered"`
		Changes []any `json:"changes"`
	}
	if err := json.Unmarshal([]byte(e.must("plan", recipe, "-json")), &plan); err != nil {
		t.Fatal(err)
	}
	if plan.FormatVersion != views.PlanFormatVersion || plan.Remembered.Workspace != "remember" || string(plan.Remembered.Variables["servers"]) != "3" ||
		string(plan.Remembered.Variables["clients"]) != "2" || plan.Remembered.Provider != "sim" || len(plan.Changes) != 0 {
		t.Errorf("plan -json: %+v", plan)
	}

	out = e.must("vars", "remember")
	for _, w := range []string{"provider  sim", "site      (none)", "VARIABLE  VALUE", "clients   2", "servers   3"} {
		if !strings.Contains(out, w) {
			t.Errorf("vars lacks %q:\n%s", w, out)
		}
	}
	var vars struct {
		Provider  string `json:"provider"`
		Variables map[string]struct {
			Type  json.RawMessage `json:"type"`
			Value json.RawMessage `json:"value"`
		} `json:"variables"`
	}
	if err := json.Unmarshal([]byte(e.must("vars", "remember", "-json")), &vars); err != nil {
		t.Fatal(err)
	}
	if vars.Provider != "sim" || string(vars.Variables["servers"].Type) != `"number"` || string(vars.Variables["servers"].Value) != "3" {
		t.Errorf("vars -json: %+v", vars)
	}

	// -var given now wins over memory, and the line says only what was used.
	out = e.must("plan", recipe, "-var", "servers=4")
	if !strings.Contains(out, "(diffuser vars remember): clients = 2, provider = sim\n") || !strings.Contains(out, "Plan: 2 to add") {
		t.Errorf("plan -var servers=4:\n%s", out)
	}

	// A saved plan made with remembered inputs applies them (the plan file
	// names its provider: only servers comes from memory then).
	planFile := filepath.Join(e.dir, "grow.plan")
	e.must("plan", recipe, "-var", "clients=3", "-out", planFile)
	out = e.must("apply", planFile, "--progress", "quiet")
	if !strings.Contains(out, "(diffuser vars remember): servers = 3\n") || !strings.Contains(out, "Plan: 2 to add, 0 to change, 0 to destroy") {
		t.Errorf("apply of the saved plan:\n%s", out)
	}
	if out := e.must("plan", recipe); !strings.Contains(out, "clients = 3, servers = 3, provider = sim") || !strings.Contains(out, "No changes.") {
		t.Errorf("plan after applying clients=3:\n%s", out)
	}

	// Without memory: the recipe's defaults and docker; with the provider
	// given, the plan shrinks the cluster back to the defaults.
	out = e.must("plan", recipe, "-remembered=false", "-provider", "sim")
	if strings.Contains(out, "Using remembered") || !strings.Contains(out, "to destroy") || strings.Contains(out, "0 to destroy") {
		t.Errorf("plan -remembered=false:\n%s", out)
	}

	out = e.must("destroy", recipe, "-auto-approve", "--progress", "quiet")
	if !strings.Contains(out, "Using remembered inputs from the last apply (diffuser vars remember): clients = 3, servers = 3, provider = sim") ||
		!strings.Contains(out, "Plan: 0 to add, 0 to change, 12 to destroy.") {
		t.Errorf("plain destroy:\n%s", out)
	}
}

// TestRememberedSensitiveCLI: a sensitive -var is remembered only as a
// digest: its value is in no file of the data directory, vars shows the
// digest, a later command without it fails naming it and what to pass,
// and given again it plans nothing.
func TestRememberedSensitiveCLI(t *testing.T) {
	e, recipe := rememberEnv(t)
	vf := e.write("token.tfvars", `token = "`+rememberSecret+`"`+"\n")
	for _, args := range [][]string{
		{"apply", recipe, "-provider", "sim", "-var", "servers=2", "-var-file", vf, "-auto-approve", "--progress", "quiet"},
		{"apply", recipe, "-var", "token=" + rememberSecret, "-auto-approve", "--progress", "plain"},
	} {
		if out := e.must(args...); strings.Contains(out, rememberSecret) {
			t.Errorf("%s shows the secret:\n%s", args, out)
		}
	}
	files := 0
	_ = filepath.WalkDir(e.data, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		files++
		if b, _ := os.ReadFile(p); strings.Contains(string(b), rememberSecret) {
			t.Errorf("%s holds the secret", p)
		}
		return nil
	})
	if _, err := os.Stat(filepath.Join(e.data, "remember", "state.json")); err != nil || files < 3 {
		t.Fatalf("only %d files under the data dir: %v", files, err)
	}

	out := e.must("vars", "remember")
	if !strings.Contains(out, "token     (sensitive, sha256:") || !strings.Contains(out, "servers   2") {
		t.Errorf("vars:\n%s", out)
	}
	js := e.must("vars", "remember", "-json")
	if strings.Contains(js, rememberSecret) || !strings.Contains(js, `"digest": "sha256:`) || strings.Contains(js, `"salt"`) {
		t.Errorf("vars -json:\n%s", js)
	}

	for _, args := range [][]string{
		{"plan", recipe}, {"apply", recipe, "-auto-approve"}, {"destroy", recipe, "-auto-approve"}, {"verify", recipe}, {"bench", recipe},
	} {
		code, stdout, stderr := e.run(args...)
		if code != 1 || !strings.Contains(stderr, "Sensitive variable not given again") || !strings.Contains(stderr, "-var token=VALUE") ||
			!strings.Contains(stderr, "diffuser vars remember") {
			t.Errorf("%s without the token: exit %d\n%s%s", args[0], code, stdout, stderr)
		}
	}

	out = e.must("plan", recipe, "-var-file", vf)
	if !strings.Contains(out, "servers = 2, provider = sim") || !strings.Contains(out, "No changes.") || strings.Contains(out, rememberSecret) {
		t.Errorf("plan with the token given again:\n%s", out)
	}
	out = e.must("plan", recipe, "-var", "token=another")
	if !strings.Contains(out, "Plan: 0 to add, 2 to change") || strings.Contains(out, "another") {
		t.Errorf("plan with another token:\n%s", out)
	}
}
