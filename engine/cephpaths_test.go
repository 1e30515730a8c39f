package engine_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"

	"diffuser/lang"
)

// secretContent stands for /etc/shadow's.
const secretContent = "root:$6$secret:19000:0:99999:7:::\n"

const rgwRecipe = `
recipe "t" {}
hosts "mon" {}
hosts "gateway" {}

module "rgw" {
  source    = "builtin/radosgw"
  gateways  = hosts.gateway
  admin     = [hosts.mon[0]]
  ceph_conf = "[global]\nfsid = 0b7f7f6a-0000-4000-8000-000000000000\n"
}
`

// cephStubs stand in for what the keyring step runs: ceph writes a
// keyring to its -o file (following a link there, as any open does), and
// chown and install, which the test cannot give to a ceph user this
// machine lacks, give to nobody (65534) instead, by the real tools.
func cephStubs(t *testing.T) string {
	t.Helper()
	bin := t.TempDir()
	stubs := map[string]string{
		"ceph": `#!/bin/sh
while [ $# -gt 0 ]; do case $1 in -o) out=$2; shift ;; esac; shift; done
printf '[client.rgw.x]\n\tkey = AQBzZXJ2ZXIta2V5LWZvci10aGUtcmFkb3NndzEyMw==\n' >"$out"
`,
	}
	for _, tool := range []string{"chown", "install"} {
		real, err := exec.LookPath(tool)
		if err != nil {
			t.Skipf("no %s", tool)
		}
		stubs[tool] = `#!/bin/sh
n=$#
while [ $n -gt 0 ]; do
	a=$1
	shift
	case $a in ceph:ceph) a=65534:65534 ;; ceph) a=65534 ;; esac
	set -- "$@" "$a"
	n=$((n - 1))
done
exec ` + real + ` "$@"
`
	}
	for name, body := range stubs {
		if err := os.WriteFile(filepath.Join(bin, name), []byte(body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return bin
}

func ownerOf(t *testing.T, p string) uint32 {
	t.Helper()
	fi, err := os.Lstat(p)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Sys().(*syscall.Stat_t).Uid
}

// TestRadosgwKeyringNotThroughCephLinks: builtin/radosgw's keyring step
// runs as root in /var/lib/ceph/radosgw, a directory of the ceph user's,
// and gives the gateway's directory and keyring to ceph. Run for real
// (sh, stat, mkdir, mktemp, mv, chmod; ceph stubbed, ceph:ceph mapped to
// nobody, /var/lib/ceph moved into a temporary directory) against a ceph
// user (any process of a Ceph daemon) that made the gateway's directory
// a link to a directory of root's, or put a link to a secret at the
// keyring's temporary name: the directory of root's keeps its owner and
// content, the secret its owner, mode and content, and the step fails
// naming the link or installs the keyring as ever. With the old command,
// install -d -o ceph chowned the link's target to ceph, and ceph -o,
// chown and chmod went through the link to the secret.
func TestRadosgwKeyringNotThroughCephLinks(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: the step gives files to another user")
	}
	w := newWorld(t, rgwRecipe)
	w.kinds = simKinds
	w.extra = map[string]string{}
	applyOK(t, w, w.plan())
	var args struct {
		Command string `json:"command"`
	}
	inst := w.st.Steps[`module.rgw.step.keyring["gateway[0]"]`]
	if inst == nil || json.Unmarshal(inst.Args, &args) != nil || !strings.Contains(args.Command, "auth get-or-create client.rgw.") {
		t.Fatalf("the keyring command: %+v", inst)
	}
	m := regexp.MustCompile(`ceph-rgw\.([A-Za-z0-9.-]+)`).FindStringSubmatch(args.Command)
	if m == nil {
		t.Fatalf("no gateway directory in %q", args.Command)
	}
	gw := "ceph-rgw." + m[1]
	bin := cephStubs(t)

	type scene struct{ root, rgw, etc, secret string }
	setup := func(t *testing.T) scene {
		root := t.TempDir()
		s := scene{root: root, rgw: filepath.Join(root, "var/lib/ceph/radosgw"), etc: filepath.Join(root, "etc"), secret: filepath.Join(root, "etc/shadow")}
		for _, d := range []string{s.rgw, filepath.Join(root, "var/lib/ceph/bootstrap-rgw"), s.etc} {
			if err := os.MkdirAll(d, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		// ceph's directories: here anyone may write them.
		for _, d := range []string{filepath.Join(root, "var/lib/ceph"), s.rgw} {
			if err := os.Chmod(d, 0o777); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.WriteFile(s.secret, []byte(secretContent), 0o600); err != nil {
			t.Fatal(err)
		}
		return s
	}
	run := func(t *testing.T, s scene) (string, error) {
		cmd := strings.ReplaceAll(args.Command, "/var/lib/ceph", filepath.Join(s.root, "var/lib/ceph"))
		c := exec.Command("sh", "-c", cmd)
		c.Env = append(os.Environ(), "PATH="+bin+":"+os.Getenv("PATH"))
		out, err := c.CombinedOutput()
		return string(out), err
	}
	secretIntact := func(t *testing.T, s scene) {
		t.Helper()
		fi, err := os.Lstat(s.secret)
		b, _ := os.ReadFile(s.secret)
		if err != nil || string(b) != secretContent || fi.Mode() != 0o600 || ownerOf(t, s.secret) != 0 {
			t.Fatalf("the secret was changed: %v %v owner %d %.40q", err, fi.Mode(), ownerOf(t, s.secret), b)
		}
		if ownerOf(t, s.etc) != 0 {
			t.Fatalf("the directory of root's was given to ceph (owner %d)", ownerOf(t, s.etc))
		}
	}

	t.Run("the gateway's directory a link", func(t *testing.T) {
		s := setup(t)
		if err := os.Symlink(s.etc, filepath.Join(s.rgw, gw)); err != nil {
			t.Fatal(err)
		}
		out, err := run(t, s)
		if err == nil || !strings.Contains(out, "symbolic link") {
			t.Errorf("keyring through a link: %v\n%s", err, out)
		}
		secretIntact(t, s)
		if ents, _ := os.ReadDir(s.etc); len(ents) != 1 {
			t.Errorf("written into the link's target: %v", ents)
		}
	})
	t.Run("a link at the keyring's temporary names", func(t *testing.T) {
		s := setup(t)
		d := filepath.Join(s.rgw, gw)
		if err := os.Mkdir(d, 0o777); err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{"keyring.tmp", "keyring"} {
			if err := os.Symlink(s.secret, filepath.Join(d, name)); err != nil {
				t.Fatal(err)
			}
		}
		out, err := run(t, s)
		secretIntact(t, s)
		if err != nil {
			t.Logf("refused: %v\n%s", err, out)
			return
		}
		fi, err := os.Lstat(filepath.Join(d, "keyring"))
		if err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm() != 0o600 || ownerOf(t, filepath.Join(d, "keyring")) != 65534 {
			t.Errorf("keyring: %v %v", fi, err)
		}
	})
	t.Run("nothing in the way", func(t *testing.T) {
		s := setup(t)
		if out, err := run(t, s); err != nil {
			t.Fatalf("keyring: %v\n%s", err, out)
		}
		d := filepath.Join(s.rgw, gw)
		kr := filepath.Join(d, "keyring")
		fi, err := os.Lstat(kr)
		if err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm() != 0o600 || ownerOf(t, kr) != 65534 || ownerOf(t, d) != 65534 {
			t.Fatalf("keyring %v %v, directory owner %d", fi, err, ownerOf(t, d))
		}
		if b, _ := os.ReadFile(kr); !strings.Contains(string(b), "[client.rgw.x]") {
			t.Errorf("keyring holds %q", b)
		}
		if ents, _ := os.ReadDir(d); len(ents) != 1 {
			t.Errorf("left in the gateway's directory: %v", ents)
		}
	})
}

// TestCephOSDDropinChownsTheDevice: the ceph recipe's drop-in for
// ceph-osd@ gives the OSD's block device to ceph before each start, as
// root. /var/lib/ceph/osd/ceph-N belongs to ceph, and so does the block
// link in it: a process of any Ceph daemon could point it at /etc/shadow,
// and chown (which follows links) gave that to ceph at the next OSD
// start. The drop-in now names the host's osd volume's device, never a
// name in a directory of ceph's. Its ExecStartPre, run for real (chown
// mapping ceph to nobody; /var/lib/ceph and the device moved into a
// temporary directory) with the block link pointing at a secret: the
// secret keeps its owner, the device goes to ceph.
func TestCephOSDDropinChownsTheDevice(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: the drop-in gives the device to another user")
	}
	st := applyBuiltinSim(t, "ceph", lang.Inputs{})
	var args struct {
		Command string `json:"command"`
	}
	inst := st.Steps[`module.osd_dropin.step.dropin["osd[0]"]`]
	if inst == nil || json.Unmarshal(inst.Args, &args) != nil {
		t.Fatalf("the drop-in step: %+v", inst)
	}
	m := regexp.MustCompile(`(?m)^\s*ExecStartPre=(.*)$`).FindStringSubmatch(args.Command)
	if m == nil {
		t.Fatalf("no ExecStartPre in %q", args.Command)
	}
	pre := strings.ReplaceAll(strings.TrimSpace(m[1]), "%i", "0")
	root := t.TempDir()
	osd := filepath.Join(root, "var/lib/ceph/osd/ceph-0")
	if err := os.MkdirAll(osd, 0o777); err != nil {
		t.Fatal(err)
	}
	secret := filepath.Join(root, "shadow")
	if err := os.WriteFile(secret, []byte(secretContent), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(secret, filepath.Join(osd, "block")); err != nil {
		t.Fatal(err)
	}
	device := filepath.Join(root, "device")
	if err := os.WriteFile(device, nil, 0o660); err != nil {
		t.Fatal(err)
	}
	var osdArgs struct {
		Command string `json:"command"`
	}
	if i := st.Steps[`step.osd["osd[0]"]`]; i == nil || json.Unmarshal(i.Args, &osdArgs) != nil {
		t.Fatal("no step.osd")
	}
	dm := regexp.MustCompile(`(?m)^\s*dev=(\S+)$`).FindStringSubmatch(osdArgs.Command)
	if dm == nil {
		t.Fatalf("no dev= in step.osd's command %q", osdArgs.Command)
	}
	// /bin/chown: the stub that gives to nobody what is given to ceph.
	local := strings.NewReplacer("/var/lib/ceph", filepath.Join(root, "var/lib/ceph"), dm[1], device, "/bin/chown ", "chown ")
	c := exec.Command("sh", "-c", local.Replace(pre))
	c.Env = append(os.Environ(), "PATH="+cephStubs(t)+":"+os.Getenv("PATH"))
	out, err := c.CombinedOutput()
	if ownerOf(t, secret) != 0 {
		t.Fatalf("ExecStartPre %q gave the block link's target to ceph", pre)
	}
	if err != nil || ownerOf(t, device) != 65534 {
		t.Fatalf("ExecStartPre %q: %v %s; the device's owner is %d", pre, err, out, ownerOf(t, device))
	}
}
