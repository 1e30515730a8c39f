package probe_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"diffuser/probe"
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
