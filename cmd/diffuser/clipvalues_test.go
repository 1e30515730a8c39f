package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLongValuesClipped: a value a diagnostic shows is cut after 100
// bytes, saying how long it was, wherever it is shown: a -var that breaks
// a constraint (1e308 is 309 digits), a module input that breaks the
// module's constraint, and the "with var.x as ..." lines of the text and
// of validate -json (which quoted a thousand-character input whole).
func TestLongValuesClipped(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"main.hcl": `recipe "clip" {}
variable "port" {
  type    = number
  default = 80
  min     = 1
  max     = 65535
}
variable "name" {
  type    = string
  default = "a"
}
variable "label" {
  type    = string
  default = "a"
}
hosts "web" {}
module "app" {
  source = "./m"
  on     = hosts.web
  name   = var.name
  label  = var.label
}
step "s" {
  on  = hosts.web
  run = "echo ${var.port}"
}
`,
		"m/main.hcl": `variable "name" { type = string }
variable "label" {
  type    = string
  pattern = "[a-z]{1,20}"
}
step "x" {
  run = "echo ${var.name} ${var.label}"
  precondition {
    condition     = length(var.name) < 10
    error_message = "name is too long."
  }
}
`,
	}
	for name, src := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	long := strings.Repeat("a", 1000)
	cut := `"` + strings.Repeat("a", 100) + `"… (1000 bytes in all)`

	code, _, errs := cliRun(t, "validate", dir, "-var", "port=1e308")
	if code == 0 || !strings.Contains(errs, "var.port is 1"+strings.Repeat("0", 99)+"… (309 bytes in all); it must be from 1 to 65535") {
		t.Errorf("-var port=1e308: exit %d, stderr:\n%s", code, errs)
	}

	code, _, errs = cliRun(t, "validate", dir, "-var", "label="+long)
	if want := "module.app input label is " + cut + "; it must be"; code == 0 || !strings.Contains(errs, want) {
		t.Errorf("module input of 1000 characters: exit %d, want %q in stderr:\n%s", code, want, errs)
	}
	if strings.Contains(errs, long) {
		t.Errorf("the long value is quoted whole:\n%s", errs)
	}

	code, _, errs = cliRun(t, "validate", dir, "-var", "name="+long)
	if code == 0 || !strings.Contains(errs, "with var.name as "+cut+".\n\nname is too long.") {
		t.Errorf("with line not cut: exit %d, stderr:\n%s", code, errs)
	}
	if strings.Contains(errs, long) {
		t.Errorf("the long value is quoted whole:\n%s", errs)
	}

	_, out, _ := cliRun(t, "validate", "-json", dir, "-var", "name="+long)
	if !strings.Contains(out, `"statement": "is \"`+strings.Repeat("a", 100)+`\"… (1000 bytes in all)"`) {
		t.Errorf("validate -json values not cut:\n%s", out)
	}
	if strings.Contains(out, long) {
		t.Errorf("validate -json quotes the value whole:\n%s", out)
	}
}
