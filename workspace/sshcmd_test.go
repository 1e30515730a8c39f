package workspace

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"diffuser/state"
)

func TestSSHArgs(t *testing.T) {
	h := state.Host{Name: "server[1]", SSH: state.SSH{Address: "172.18.0.5", Port: 2222, User: "admin", HostKey: "ssh-ed25519 AAAAC3Nza host"}}
	got, err := sshArgs("gfs", h, "/d/gfs/id_ed25519", "/d/gfs/known_hosts", nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"ssh", "-i", "/d/gfs/id_ed25519", "-o", "IdentitiesOnly=yes", "-o", "UserKnownHostsFile=/d/gfs/known_hosts",
		"-o", "GlobalKnownHostsFile=/dev/null", "-o", "StrictHostKeyChecking=yes", "-o", "HostKeyAlias=diffuser.gfs.server-1",
		"-p", "2222", "-t", "--", "admin@172.18.0.5"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("interactive:\n%q\nwant\n%q", got, want)
	}
	h.SSH.KeyFile = "/keys/mine"
	h.Attrs = map[string]string{"ssh_jump": "ops@bastion:2200"}
	got, _ = sshArgs("gfs", h, "/d/gfs/id_ed25519", "/d/gfs/known_hosts", []string{"uname", "-a"})
	if got[2] != "/keys/mine" || !strings.Contains(strings.Join(got, " "), "-J ops@bastion:2200 -- admin@172.18.0.5 uname -a") {
		t.Errorf("with a command and a jump host: %q", got)
	}
	h.SSH.HostKey = ""
	if _, err := sshArgs("gfs", h, "", "", nil); err == nil || !strings.Contains(err.Error(), "no pinned host key") {
		t.Errorf("no host key: %v", err)
	}
}

// A static host reached through ~/.ssh/config: the alias stays the
// destination (ssh matches the same Host blocks), everything diffuser
// resolved is given explicitly so that it wins over the config.
func TestSSHArgsAgreeWithSSHConfig(t *testing.T) {
	dir := t.TempDir()
	idFile := filepath.Join(dir, "id_lab%1")
	if err := os.WriteFile(idFile, []byte("k"), 0o600); err != nil {
		t.Fatal(err)
	}
	h := state.Host{Name: "server[0]", SSH: state.SSH{Address: "192.0.2.11", Port: 2201, User: "alice", HostKey: "ssh-ed25519 AAAA host",
		IdentityFiles: []string{filepath.Join(dir, "absent"), idFile}},
		Attrs: map[string]string{"ssh_host": "lab-pc-01", "ssh_config": "/etc/lab/ssh_config", "ssh_jump": "jump@jumper:22,ops@bastion:2222"}}
	got, err := sshArgs("lab", h, "/d/lab/id_ed25519", "/d/lab/known_hosts", []string{"true"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"ssh", "-F", "/etc/lab/ssh_config", "-i", strings.ReplaceAll(idFile, "%", "%%"), "-i", "/d/lab/id_ed25519",
		"-o", "IdentitiesOnly=yes", "-o", "UserKnownHostsFile=/d/lab/known_hosts", "-o", "GlobalKnownHostsFile=/dev/null",
		"-o", "StrictHostKeyChecking=yes", "-o", "HostKeyAlias=diffuser.lab.server-0", "-o", "HostName=192.0.2.11",
		"-p", "2201", "-J", "jump@jumper:22,ops@bastion:2222", "--", "alice@lab-pc-01", "true"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got\n%q\nwant\n%q", got, want)
	}
	h.Attrs["ssh_config"] = "none"
	if got, _ := sshArgs("lab", h, "/k", "/kh", nil); got[1] != "-F" || got[2] != "none" {
		t.Errorf("ssh_config none: %q", got)
	}
}

// Values in state are data: an edited or hostile state cannot smuggle an
// option into ssh's command line.
func TestSSHArgsRefuseHostileState(t *testing.T) {
	base := func() state.Host {
		return state.Host{Name: "h", SSH: state.SSH{Address: "10.0.0.1", Port: 22, User: "root", HostKey: "ssh-ed25519 AAAA"}, Attrs: map[string]string{}}
	}
	for name, edit := range map[string]func(*state.Host){
		"user option":    func(h *state.Host) { h.SSH.User = "-oProxyCommand=touch /tmp/x" },
		"address option": func(h *state.Host) { h.SSH.Address = "-oProxyCommand=x" },
		"address space":  func(h *state.Host) { h.SSH.Address = "10.0.0.1 -oProxyCommand=x" },
		"alias option":   func(h *state.Host) { h.Attrs["ssh_host"] = "-oProxyCommand=x" },
		"jump option":    func(h *state.Host) { h.Attrs["ssh_jump"] = "-oProxyCommand=x" },
		"jump user":      func(h *state.Host) { h.Attrs["ssh_jump"] = "-x@bastion" },
		"key env":        func(h *state.Host) { h.Attrs["ssh_key_file"] = "/k/${HOME}" },
		"key newline":    func(h *state.Host) { h.Attrs["ssh_key_file"] = "/k\n-oProxyCommand=x" },
	} {
		h := base()
		edit(&h)
		if argv, err := sshArgs("w", h, "/k", "/kh", nil); err == nil {
			t.Errorf("%s: accepted: %q", name, argv)
		}
	}
}

// TestSSHDestinationAfterDoubleDash runs the real ssh with the command
// line diffuser ssh builds, the destination swapped for an option that
// would run a command on the operator's machine (a user beginning with
// "-", the hole of issue 14) and a remote command that looks like an
// option: "--" before the destination keeps both data, so nothing runs.
func TestSSHDestinationAfterDoubleDash(t *testing.T) {
	if _, err := exec.LookPath("ssh"); err != nil {
		t.Skip("no ssh client")
	}
	dir := t.TempDir()
	marker := filepath.Join(dir, "ran")
	h := state.Host{Name: "h", SSH: state.SSH{Address: "127.0.0.1", Port: 1, User: "root", HostKey: "ssh-ed25519 AAAA"}}
	argv, err := sshArgs("w", h, filepath.Join(dir, "k"), filepath.Join(dir, "kh"), []string{"-oProxyCommand=touch " + marker})
	if err != nil {
		t.Fatal(err)
	}
	i := slices.Index(argv, "root@127.0.0.1")
	if i < 1 || argv[i-1] != "--" {
		t.Fatalf("the destination does not follow --: %q", argv)
	}
	for _, dest := range []string{"-oProxyCommand=touch " + marker, "root@127.0.0.1"} {
		argv[i] = dest
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		cmd := exec.CommandContext(ctx, argv[0], append([]string{"-o", "BatchMode=yes", "-o", "ConnectTimeout=5"}, argv[1:]...)...)
		out, err := cmd.CombinedOutput()
		cancel()
		if err == nil {
			t.Fatalf("ssh %q succeeded: %s", dest, out)
		}
		if _, err := os.Stat(marker); err == nil {
			t.Fatalf("ssh ran a local command with destination %q: %q\n%s", dest, argv, out)
		}
	}
}
