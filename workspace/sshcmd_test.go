package workspace

import (
	"reflect"
	"strings"
	"testing"

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
		"-p", "2222", "-t", "admin@172.18.0.5"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("interactive:\n%q\nwant\n%q", got, want)
	}
	h.SSH.KeyFile = "/keys/mine"
	h.Attrs = map[string]string{"ssh_jump": "ops@bastion:2200"}
	got, _ = sshArgs("gfs", h, "/d/gfs/id_ed25519", "/d/gfs/known_hosts", []string{"uname", "-a"})
	if got[2] != "/keys/mine" || !strings.Contains(strings.Join(got, " "), "-J ops@bastion:2200 admin@172.18.0.5 -- uname -a") {
		t.Errorf("with a command and a jump host: %q", got)
	}
	h.SSH.HostKey = ""
	if _, err := sshArgs("gfs", h, "", "", nil); err == nil || !strings.Contains(err.Error(), "no pinned host key") {
		t.Errorf("no host key: %v", err)
	}
}
