package probe_test

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"diffuser/probe"
	"diffuser/runner"
	"diffuser/state"
)

// TestVerifyScripted checks the round trip on simulated answers: the file
// is written on the first client and read on the other, a different
// checksum fails the read, and the file is removed on the writer.
func TestVerifyScripted(t *testing.T) {
	const sum = "0123456789abcdef0123456789abcdef"
	for _, tc := range []struct {
		name, read, want string
		ok               bool
	}{
		{"match", sum, "sha256 matches", true},
		{"mismatch", "ffff" + sum[4:], "checksum mismatch: wrote 0123456789ab…, read ffff456789ab…", false},
		// The reader does not see the file: the path is not shared.
		{"missing", "", "exit status 1: the file written on client[0] is not here: is the verify path on a filesystem that every host of on mounts?", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := mustLoad(t, benchRecipe("/mnt/fs"))
			st := benchState(l)
			cl := adopted(st)
			cl.Behavior = func(host, cmd string) (time.Duration, int, string) {
				switch {
				case strings.Contains(cmd, "/dev/urandom"):
					return 0, 0, sum + "\n"
				case strings.HasPrefix(cmd, "sha256sum < /mnt/fs/.diffuser-verify-"):
					if tc.read == "" {
						return 0, 1, "the file written on client[0] is not here: is the verify path on a filesystem that every host of on mounts?\n"
					}
					return 0, 0, tc.read + "\n"
				}
				return 0, 0, ""
			}
			checks, err := probe.Verify(context.Background(), l, st, probe.VerifyOptions{Connector: cl.Connector()})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, c := range checks {
				got = append(got, c.Name+" "+c.Host)
			}
			if strings.Join(got, ", ") != "write client[0], read client[1], cleanup client[0]" {
				t.Fatalf("checks: %q", got)
			}
			if w := checks[0]; !w.OK || w.Detail != "4 MiB, sha256 0123456789ab…" {
				t.Errorf("write: %+v", w)
			}
			if r := checks[1]; r.OK != tc.ok || r.Detail != tc.want {
				t.Errorf("read: %+v, want ok=%v %q", r, tc.ok, tc.want)
			}
			if rm := cl.Commands("client[0]"); !strings.HasPrefix(rm[len(rm)-1], "rm -f /mnt/fs/.diffuser-verify-") {
				t.Errorf("last command on the writer %q, want the cleanup", rm[len(rm)-1])
			}
		})
	}
}

// ownDirRunner runs commands with sh on this machine, each host in a
// directory of its own: the verify path of the recipe (shared) becomes
// shared/HOST, as a path on each host's own disk would be.
type ownDirRunner struct {
	localRunner
	shared string
}

func (r *ownDirRunner) Runner(_ context.Context, h state.Host, _ func(int, string) error) (runner.Runner, error) {
	own := filepath.Join(r.shared, strings.NewReplacer("[", "-", "]", "").Replace(h.Name))
	if err := os.MkdirAll(own, 0o755); err != nil {
		return nil, err
	}
	return hostDir{r: &r.localRunner, from: r.shared + "/", to: own + "/"}, nil
}

type hostDir struct {
	r        *localRunner
	from, to string
}

func (h hostDir) Run(ctx context.Context, cmd string, o runner.Options) (runner.Result, error) {
	return h.r.Run(ctx, strings.ReplaceAll(cmd, h.from, h.to), o)
}

func (h hostDir) Upload(context.Context, io.Reader, string, os.FileMode) error { return nil }

// TestVerifyLocalPathNotShared runs the verify commands for real: with a
// path each client has its own copy of, the reader is told that the file
// is not there and why, instead of a checksum mismatch against the empty
// hash of nothing; with a shared directory the same commands pass.
func TestVerifyLocalPathNotShared(t *testing.T) {
	dir := t.TempDir()
	l := mustLoad(t, benchRecipe(dir))
	opts := probe.VerifyOptions{Connector: &ownDirRunner{shared: dir}, SizeMiB: 1, Timeout: time.Minute}
	checks, err := probe.Verify(context.Background(), l, benchState(l), opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(checks) != 3 || checks[1].Name != "read" || checks[1].OK ||
		!strings.Contains(checks[1].Detail, "the file written on client[0] is not here: is the verify path on a filesystem that every host of on mounts?") {
		t.Fatalf("read on a host without the file: %+v", checks)
	}
	opts.Connector = &localRunner{}
	checks, err = probe.Verify(context.Background(), l, benchState(l), opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(checks) != 3 || !checks[1].OK || checks[1].Detail != "sha256 matches" {
		t.Fatalf("read of a shared directory: %+v", checks)
	}
}
