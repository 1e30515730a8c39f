package engine_test

import (
	"strings"
	"testing"
)

// TestCRLFRecipe: a recipe saved with Windows line ends runs the same
// commands as with Unix ones: no "\r" reaches a host, in a heredoc
// command, a quoted string or an interpolation.
func TestCRLFRecipe(t *testing.T) {
	src := strings.ReplaceAll(`
recipe "t" {}
variable "msg" {
  type    = string
  default = "hi"
}
hosts "a" { count = 1 }
step "s" {
  on  = hosts.a
  run = <<-EOT
    echo ${var.msg}
    systemctl start glusterd
  EOT
}
step "q" {
  on  = hosts.a
  run = "echo one"
}
`, "\n", "\r\n")
	w := newWorld(t, src)
	res := w.apply(w.plan(), 2)
	if len(res.Failures) > 0 {
		t.Fatal(res.Failures[0].Err)
	}
	cmds := w.cloud.Commands("a[0]")
	joined := strings.Join(cmds, "\n")
	if !strings.Contains(joined, "systemctl start glusterd") || !strings.Contains(joined, "echo one") {
		t.Fatalf("commands: %q", cmds)
	}
	for _, c := range cmds {
		if strings.Contains(c, "\r") {
			t.Errorf("a command keeps \\r: %q", c)
		}
	}
}
