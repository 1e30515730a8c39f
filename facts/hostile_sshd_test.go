package facts_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"diffuser/facts"
	"diffuser/remote"
	"diffuser/remote/sshdtest"
)

// TestGatherHostileAnswerOverSSH feeds Gather crafted answers from a real
// sshd whose ForceCommand prints a file instead of running the facts
// command (a broken host, or a peer tool's wrapper): a whole answer is
// read; one of 100 MB (of which remote keeps the last MiB), one cut short
// and one that lost its start are refused, saying what is wrong, instead
// of recording the facts they lack as none; escape sequences, invalid
// UTF-8, huge numbers and shell words in values are dropped.
func TestGatherHostileAnswerOverSSH(t *testing.T) {
	env := sshdtest.NewEnv(t)
	dir := t.TempDir()
	answer := filepath.Join(dir, "answer")
	srv := env.NewServer(t, sshdtest.Options{Extra: "ForceCommand cat " + answer})
	pool := remote.NewPool()
	t.Cleanup(func() { _ = pool.Close() })
	c, err := pool.Client(remote.Config{Name: "evil[0]", Address: "127.0.0.1", Port: srv.Port, User: env.User,
		KeyFiles: []string{env.KeyPath}, HostKey: srv.HostKeys[0], ConnectTimeout: 5 * time.Second, NoShell: true})
	if err != nil {
		t.Fatal(err)
	}
	debian, err := os.ReadFile("testdata/debian12.txt")
	if err != nil {
		t.Fatal(err)
	}
	flood := func(n int) string {
		line := `NAME="loop0" SIZE="1" TYPE="loop"` + "\n"
		return strings.Repeat(line, n/len(line))
	}
	for _, c2 := range []struct {
		name, answer, says string
	}{
		{"whole", string(debian), ""},
		{"100 MB after the answer", string(debian) + flood(100<<20), "is 1048576 bytes or more"},
		{"100 MB inside lsblk", strings.Replace(string(debian), "@@facts:lsblk\n", "@@facts:lsblk\n"+flood(100<<20), 1), "is 1048576 bytes or more"},
		{"cut short", string(debian[:len(debian)/2]), "cut short: it lacks the @@facts:end line"},
		{"start lost", string(debian[strings.Index(string(debian), "@@facts:uname-m"):]), "lacks its first section (@@facts:os-release)"},
		{"escapes, invalid UTF-8, huge numbers, shell words", "@@facts:os-release\nID=\"deb\x1b[2J$(reboot)\"\nPRETTY_NAME=\"\x1b]0;owned\x07Debian\xff\xfe\"\n" +
			"@@facts:nproc\n99999999999999999999\n@@facts:meminfo\nMemTotal: 1e400 kB\n@@facts:lsblk\nNAME=\"../../etc\" TYPE=\"disk\"\nNAME=\"vdb\" MOUNTPOINT=\"/mnt/\\x1b[31m\" SIZE=\"-1\"\n" +
			"@@facts:devnodes\nvdb\n../../etc\n@@facts:end\n", ""},
	} {
		t.Run(c2.name, func(t *testing.T) {
			if err := os.WriteFile(answer, []byte(c2.answer), 0o644); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			f, err := facts.Gather(ctx, c)
			if c2.says != "" {
				if err == nil || !strings.Contains(err.Error(), c2.says) {
					t.Fatalf("read as %+v (err %v), want refused: %s", f, err, c2.says)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := fmt.Sprintf("%+v", f)
			for _, bad := range []string{"\x1b", "\ufffd", "reboot", "../", "\xff"} {
				if strings.Contains(got, bad) {
					t.Errorf("facts hold %q: %s", bad, got)
				}
			}
			if c2.name == "whole" && (f.OS.ID != "debian" || f.Cores == 0 || len(f.Devices) == 0) {
				t.Errorf("the whole answer read as %s", got)
			}
		})
	}
}
