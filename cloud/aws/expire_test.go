package aws

import (
	"encoding/base64"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"diffuser/cloud/aws/internal/ec2test"
)

// TestExpireUserDataRuns runs the user data's fallback path (no systemd)
// with a fake shutdown on PATH and checks the minutes it schedules.
func TestExpireUserDataRuns(t *testing.T) {
	dir := t.TempDir()
	script := ExpireUserData(time.Now().Add(90 * time.Minute))
	// The script writes /etc/diffuser/expires; point it at the temp dir.
	script = strings.ReplaceAll(script, "/etc/diffuser", filepath.Join(dir, "etc"))
	if strings.Contains(script, "/etc/diffuser") {
		t.Fatal("script still writes /etc/diffuser")
	}
	bin := filepath.Join(dir, "bin")
	if err := os.Mkdir(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	fake := "#!/bin/sh\necho \"$@\" > " + filepath.Join(dir, "shutdown.args") + "\n"
	if err := os.WriteFile(filepath.Join(bin, "shutdown"), []byte(fake), 0o755); err != nil {
		t.Fatal(err)
	}
	// No systemctl on PATH: the fallback runs.
	cmd := exec.Command("/bin/sh", "-c", script)
	cmd.Env = []string{"PATH=" + bin + ":/usr/bin:/bin"}
	if _, err := exec.LookPath("systemctl"); err == nil {
		cmd.Env = []string{"PATH=" + bin}
		for _, tool := range []string{"date", "mkdir"} {
			p, err := exec.LookPath(tool)
			if err != nil {
				t.Skip(tool, "missing")
			}
			if err := os.Symlink(p, filepath.Join(bin, tool)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("user data failed: %v\n%s", err, out)
	}
	args, err := os.ReadFile(filepath.Join(dir, "shutdown.args"))
	if err != nil {
		t.Fatal(err)
	}
	// 90 minutes ahead, rounded up: 90 (or 91 when the second ticked).
	if got := string(args); !strings.HasPrefix(got, "-h +90 ") && !strings.HasPrefix(got, "-h +91 ") {
		t.Fatalf("shutdown called with %q, want -h +90", got)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "etc", "expires")); len(b) == 0 {
		t.Fatal("the deadline file was not written")
	}
}

func TestExpireAtRequest(t *testing.T) {
	in := &ec2.RunInstancesInput{}
	tags := map[string]string{}
	deadline := time.Date(2030, 1, 2, 3, 4, 5, 0, time.FixedZone("x", 3600))
	expireAt(in, tags, deadline)
	if in.InstanceInitiatedShutdownBehavior != types.ShutdownBehaviorTerminate {
		t.Fatalf("shutdown behaviour %q", in.InstanceInitiatedShutdownBehavior)
	}
	if tags[TagExpires] != "2030-01-02T02:04:05Z" {
		t.Fatalf("tag %q", tags[TagExpires])
	}
	ud, err := base64.StdEncoding.DecodeString(*in.UserData)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(ud), "OnCalendar=2030-01-02 02:04:05 UTC") || !strings.Contains(string(ud), "deadline=1893549845") {
		t.Fatalf("user data:\n%s", ud)
	}
	if err := exec.Command("/bin/sh", "-n", "-c", string(ud)).Run(); err != nil {
		t.Fatalf("user data is not valid sh: %v", err)
	}
}

// TestLaunchWithDeadline launches against the EC2 test server with a
// deadline: every instance is tagged with it, asks to be terminated on
// shutdown and carries the user data that shuts it down then; hosts
// launched without a deadline keep EC2's defaults.
func TestLaunchWithDeadline(t *testing.T) {
	ctx := testContext(t)
	srv := ec2test.New(ec2test.Options{})
	defer srv.Close()
	p, _ := newTestProvider(t, srv, "")
	deadline := time.Now().Add(4 * time.Hour).UTC().Truncate(time.Second)
	specs := specsFor("ttl", group{"server", 2, nil})
	for i := range specs {
		specs[i].Expires = deadline
	}
	plain := specsFor("ttl", group{"client", 1, nil})
	hosts, err := launchAll(ctx, p, append(specs, plain...))
	if err != nil {
		t.Fatal(err)
	}
	got := 0
	for _, in := range srv.Instances() {
		switch in.Tags[tagGroup] {
		case "server":
			got++
			if in.Tags[TagExpires] != deadline.Format(time.RFC3339) {
				t.Errorf("%s: tag %s = %q", in.ID, TagExpires, in.Tags[TagExpires])
			}
			if in.ShutdownBehavior != "terminate" {
				t.Errorf("%s: shutdown behaviour %q, want terminate", in.ID, in.ShutdownBehavior)
			}
			if !strings.Contains(in.UserData, fmt.Sprintf("deadline=%d", deadline.Unix())) {
				t.Errorf("%s: user data does not schedule the deadline:\n%s", in.ID, in.UserData)
			}
		case "client":
			if _, ok := in.Tags[TagExpires]; ok || in.ShutdownBehavior != "stop" || in.UserData != "" {
				t.Errorf("client without deadline: tags %v, behaviour %q, user data %q", in.Tags, in.ShutdownBehavior, in.UserData)
			}
		}
	}
	if got != 2 {
		t.Fatalf("%d servers launched, want 2", got)
	}
	// Extending: the running instance is retagged with the new deadline.
	later := deadline.Add(20 * time.Hour)
	ext := specs[0]
	ext.Expires = later
	if err := p.Expire(ctx, ext, hosts[ext.Name]); err != nil {
		t.Fatal(err)
	}
	in, ok := srv.Instance(hosts[ext.Name].ProviderID)
	if !ok || in.Tags[TagExpires] != later.Format(time.RFC3339) {
		t.Fatalf("after Expire: tag %q, want %s", in.Tags[TagExpires], later.Format(time.RFC3339))
	}
	if other, _ := srv.Instance(hosts[specs[1].Name].ProviderID); other.Tags[TagExpires] != deadline.Format(time.RFC3339) {
		t.Fatalf("Expire of one host retagged another: %q", other.Tags[TagExpires])
	}
}

// TestExpireShutdownBehaviour: an instance launched with a deadline is
// terminated when it shuts itself down (the timer's poweroff ends it).
// Once --ttl 0 removes the deadline, a shutdown from inside (an operator's
// poweroff, meant to stop the machine) must stop it, not terminate it
// and delete its volumes (DeleteOnTermination): Expire with no deadline
// sets the behaviour back to stop, and a deadline given again sets
// terminate again, for the timer it re-enables.
func TestExpireShutdownBehaviour(t *testing.T) {
	ctx := testContext(t)
	srv := ec2test.New(ec2test.Options{})
	defer srv.Close()
	p, _ := newTestProvider(t, srv, "")
	deadline := time.Now().Add(4 * time.Hour).UTC().Truncate(time.Second)
	specs := specsFor("ttl", group{"server", 1, nil})
	specs[0].Expires = deadline
	hosts, err := launchAll(ctx, p, specs)
	if err != nil {
		t.Fatal(err)
	}
	h := hosts[specs[0].Name]
	behaviour := func() string {
		in, ok := srv.Instance(h.ProviderID)
		if !ok {
			t.Fatal("the instance is gone")
		}
		return in.ShutdownBehavior
	}
	if got := behaviour(); got != "terminate" {
		t.Fatalf("launched with a deadline: shutdown behaviour %q, want terminate", got)
	}
	none := specs[0]
	none.Expires = time.Time{}
	if err := p.Expire(ctx, none, h); err != nil {
		t.Fatal(err)
	}
	if got := behaviour(); got != "stop" {
		t.Errorf("after --ttl 0: shutdown behaviour %q, want stop (a poweroff would terminate the instance and delete its volumes)", got)
	}
	again := specs[0]
	again.Expires = deadline.Add(time.Hour)
	if err := p.Expire(ctx, again, h); err != nil {
		t.Fatal(err)
	}
	if got := behaviour(); got != "terminate" {
		t.Errorf("a deadline again: shutdown behaviour %q, want terminate", got)
	}
}
