package distribute

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"diffuser/steps"
)

// TestRelaySetupHostileAddressInert: a private address that tries to end
// the setup script's here-documents and run a line of its own (the hole
// of issue 14) is written as data. The script parses (sh -n), and its
// file-writing part, run for real in a temporary directory, writes the
// value into authorized_keys and runs nothing.
func TestRelaySetupHostileAddressInert(t *testing.T) {
	tmp := t.TempDir()
	marker := filepath.Join(tmp, "pwned")
	payloads := []string{
		"10.0.0.9\nDIFFUSER_RELAY_EOF\ntouch " + marker + "\n",
		"10.0.0.9\"\ntouch " + marker + "\n#",
		"$(touch " + marker + ")",
		"`touch " + marker + "`",
		"'; touch " + marker + "; '",
	}
	a := distArgs{dest: filepath.Join(tmp, "dest", "x.tar"), fileMode: 0o644, fanout: 1}
	art := &fileArtifact{path: "/dev/null"}
	fi, err := os.Stat("/dev/null")
	if err != nil {
		t.Fatal(err)
	}
	art.fi = fi
	for i, p := range payloads {
		tr := newTransfer(a, art, []steps.Target{{Host: "h[0]", Address: "10.1.2.3"}, {Host: "h[1]", Address: p}})
		r, err := newRelay(tr)
		if err != nil {
			t.Fatal(err)
		}
		script := r.setupScript(tr.hosts[0], []string{"10.1.2.3", p})
		cmd := exec.Command("sh", "-n")
		cmd.Stdin = strings.NewReader(script)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("payload %d: the script does not parse: %v\n%s", i, err, out)
		}
		// Run everything before the sshd part, in tmp: the sweep and the
		// files. The relay directory and the sweep's prefix point into tmp.
		d := filepath.Join(tmp, "relay")
		cut, _, ok := strings.Cut(script, "config() {")
		if !ok {
			t.Fatal("no config() in the setup script")
		}
		cut = strings.ReplaceAll(cut, "D="+r.dir+"\n", "D="+d+"\n")
		cut = strings.ReplaceAll(cut, relayDirPrefix, filepath.Join(tmp, "sweep-"))
		run := exec.Command("sh", "-s")
		run.Stdin = strings.NewReader(cut)
		if out, err := run.CombinedOutput(); err != nil {
			t.Fatalf("payload %d: the setup's file part failed: %v\n%s", i, err, out)
		}
		if _, err := os.Stat(marker); err == nil {
			t.Fatalf("payload %d ran a command:\n%s", i, cut)
		}
		ak, err := os.ReadFile(filepath.Join(d, "authorized_keys"))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(ak), p) {
			t.Errorf("payload %d: authorized_keys does not hold the value as data:\n%s", i, ak)
		}
	}
}

// TestRelaySkipsHostileAddress: a host whose private address is not an
// address gets no relay (and is left out of every from="..." list).
func TestRelaySkipsHostileAddress(t *testing.T) {
	// An IPv6 zone is any text to netip: $(...) there would run in the
	// unquoted here-document that writes ListenAddress.
	for _, bad := range []string{"a b", "-oProxyCommand=x", "10.0.0.1\nX", "x\"y", "", "$(id)", "fe80::1%$(id)", "fe80::1%a\"b", "fe80::1%x y"} {
		err := checkAddress(bad)
		if err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	for _, good := range []string{"10.0.0.1", "fe80::1", "fe80::1%eth0", "lab-pc-01.example.com"} {
		if err := checkAddress(good); err != nil {
			t.Errorf("%q refused: %v", good, err)
		}
	}
}
