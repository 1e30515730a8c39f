package sim

import (
	"fmt"
	"strings"

	"diffuser/runner"
)

// defaultFacts is what a simulated host answers to the facts command: a
// Debian 12 machine with 2 cores, 4 GiB, one 20 GiB disk and every
// capability in its bounding set (a VM's root, not a container's).
const defaultFacts = `@@facts:os-release
PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
ID=debian
@@facts:uname-m
x86_64
@@facts:dpkg-arch
amd64
@@facts:rpm-arch
@@facts:nproc
2
@@facts:meminfo
MemTotal:        4028452 kB
@@facts:capbnd
CapBnd:	000001ffffffffff
@@facts:lsblk
NAME="vda" SIZE="21474836480" TYPE="disk" MOUNTPOINT="/" FSTYPE="ext4"
@@facts:end
`

// SetFacts makes host answer the facts command with output (the raw
// text facts.Parse reads) from now on; "" restores the default.
func (c *Cloud) SetFacts(host, output string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.facts == nil {
		c.facts = map[string]string{}
	}
	c.facts[host] = output
}

// FactsGathered counts the facts commands hosts answered, with their
// devices (facts.Command) or without (facts.StableCommand).
func (c *Cloud) FactsGathered() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.factsRuns
}

// DevicesGathered counts the facts commands that asked for devices
// (facts.Command).
func (c *Cloud) DevicesGathered() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.deviceRuns
}

// answerFacts answers the facts command; without devices, it leaves
// out the device sections as a host does. It is not a step's command, so
// Commands does not list it.
func (r hostRunner) answerFacts(opt runner.Options, devices bool) (runner.Result, error) {
	r.c.mu.Lock()
	out := r.c.facts[r.host]
	r.c.factsRuns++
	if devices {
		r.c.deviceRuns++
	}
	r.c.mu.Unlock()
	if out == "" {
		out = defaultFacts
	}
	if !devices {
		out = withoutDevices(out)
	}
	if opt.Output != nil {
		_, _ = fmt.Fprint(opt.Output, out)
	}
	return runner.Result{Stdout: out}, nil
}

// withoutDevices is facts output without its device sections (lsblk,
// sysblock, mounts): what facts.StableCommand prints.
func withoutDevices(out string) string {
	var b strings.Builder
	skip := false
	for _, line := range strings.SplitAfter(out, "\n") {
		if name, ok := strings.CutPrefix(strings.TrimSuffix(line, "\n"), "@@facts:"); ok {
			skip = name == "lsblk" || name == "sysblock" || name == "mounts"
		}
		if !skip {
			b.WriteString(line)
		}
	}
	return b.String()
}
