package workspace

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"diffuser/remote/sshdtest"
)

// A static host's private address is the site file's (private_ips) and
// every recipe pastes host.private_ip into commands (gluster peer probe
// ADDRESS), relying on the check where it enters. An IPv6 address may
// carry a zone (fe80::1%eth0), and the zone is any text to
// netip.ParseAddr: one holding shell words is refused by plan, before
// anything runs on the machine.
func TestStaticPrivateIPZoneIsNoShellCode(t *testing.T) {
	w := newReaddressWorld(t, sshdtest.Options{})
	pwned := filepath.Join(w.dir, "pwned")
	site := fmt.Sprintf(`default_provider = "static"
provider "static" {
  ssh_config = ""
  key_file   = %q
  port       = %d
  hosts "server" {
    addresses   = ["127.0.0.1"]
    private_ips = [%q]
  }
}
`, w.keys.KeyPath, w.srv.Port, "fe80::1%x;touch "+pwned+";")
	must(t, os.WriteFile(w.inputs.Site, []byte(site), 0o644))

	pl, err := w.env.Plan(context.Background(), PlanRequest{Inputs: w.inputs, Command: "apply", Lock: true, Refresh: true})
	if err == nil {
		res, aerr := pl.Apply(context.Background(), ApplyOptions{})
		pl.Close()
		if aerr == nil && res != nil {
			for _, f := range res.Failures {
				t.Logf("%s: %v", f.Addr, f.Err)
			}
		}
		t.Errorf("plan accepted private_ips = [%q]", "fe80::1%x;touch "+pwned+";")
	} else if !strings.Contains(err.Error(), "private_ips") {
		t.Errorf("plan refused the site file, but not naming private_ips: %v", err)
	}
	if _, err := os.Stat(pwned); err == nil {
		t.Errorf("the zone of a private address ran as a command on the host: %s exists", pwned)
	}
}
