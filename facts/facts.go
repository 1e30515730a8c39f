package facts

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"diffuser/runner"
)

// Facts are what a host is. A fact a host did not tell is its zero value:
// "" or 0, an empty list of devices.
type Facts struct {
	OS OS `json:"os"`
	// Arch is the kernel's machine name (uname -m): x86_64, aarch64…
	Arch string `json:"arch"`
	// PackageArch is the package manager's name for it (dpkg: amd64,
	// arm64; rpm: x86_64), "" when neither dpkg nor rpm answered.
	PackageArch string   `json:"package_arch"`
	Cores       int      `json:"cores"`
	MemoryMB    int      `json:"memory_mb"`
	Devices     []Device `json:"devices"`
	// Capabilities is the capability bounding set of the process the
	// facts command runs in (the login session's shell): the sorted
	// names of capabilities(7) without CAP_, in lower case ("chown",
	// "net_admin"); a bit newer than diffuser's table is "cap_N" (see
	// CapabilityName). Empty when the host did not tell (no
	// /proc/self/status). nil only in facts decoded from a state written
	// before diffuser gathered capabilities: not recorded, not "none".
	Capabilities []string `json:"capabilities"`
}

// OS is what /etc/os-release says.
type OS struct {
	ID        string   `json:"id"`         // "debian", "ubuntu", "rocky", "alpine"
	IDLike    []string `json:"id_like"`    // "rhel", "centos", "fedora"
	VersionID string   `json:"version_id"` // "12", "22.04", "9.3"
	Name      string   `json:"name"`       // PRETTY_NAME, else NAME
	// Family groups distributions that share package names: "debian"
	// (Debian, Ubuntu and their derivatives), "rhel" (RHEL, Rocky, Alma,
	// CentOS, Fedora), "suse", "alpine", "arch"; else the id itself.
	Family string `json:"family"`
}

// Device is one block device.
type Device struct {
	Name       string `json:"name"`       // "sda", "nvme0n1p1", "loop3"
	SizeBytes  int64  `json:"size_bytes"` // 0 when unknown
	Type       string `json:"type"`       // lsblk's TYPE: disk, part, loop, rom, lvm…
	Mountpoint string `json:"mountpoint"` // "" when not mounted
	FSType     string `json:"fstype"`     // "" when none is known
}

// Equal says whether two sets of facts are the same.
func (f Facts) Equal(o Facts) bool {
	a, _ := json.Marshal(f)
	b, _ := json.Marshal(o)
	return string(a) == string(b)
}

// Timeout bounds the facts command.
const Timeout = time.Minute

// Gather runs Command on a host and parses what it prints.
func Gather(ctx context.Context, r runner.Runner) (Facts, error) {
	return gather(ctx, r, Command)
}

// GatherStable runs StableCommand on a host: its facts without the
// devices (an empty list), for a refresh of facts state records.
func GatherStable(ctx context.Context, r runner.Runner) (Facts, error) {
	f, err := gather(ctx, r, StableCommand)
	if err != nil {
		return Facts{}, err
	}
	f.Devices = []Device{}
	return f, nil
}

func gather(ctx context.Context, r runner.Runner, cmd string) (Facts, error) {
	res, err := r.Run(ctx, cmd, runner.Options{Timeout: Timeout})
	if err != nil {
		return Facts{}, fmt.Errorf("gathering host facts: %w", err)
	}
	if res.Exit != 0 {
		return Facts{}, fmt.Errorf("gathering host facts: the facts command exited with status %d: %s",
			res.Exit, runner.LastLines(res.Stderr, 5))
	}
	return Parse(res.Stdout)
}

// Decode reads facts as state records them; ok is false when there are
// none (state written before facts existed) or they do not decode.
// Facts recorded before capabilities were gathered decode with nil
// Capabilities (CapabilitiesRecorded is false).
func Decode(raw json.RawMessage) (Facts, bool) {
	if len(raw) == 0 {
		return Facts{}, false
	}
	var f Facts
	if err := json.Unmarshal(raw, &f); err != nil {
		return Facts{}, false
	}
	if f.Devices == nil {
		f.Devices = []Device{}
	}
	return f, true
}

// CapabilitiesRecorded says whether f holds the host's capabilities: false
// for facts recorded before diffuser gathered them.
func (f Facts) CapabilitiesRecorded() bool { return f.Capabilities != nil }

// Encode is the JSON state records.
func (f Facts) Encode() json.RawMessage {
	if f.Devices == nil {
		f.Devices = []Device{}
	}
	if f.OS.IDLike == nil {
		f.OS.IDLike = []string{}
	}
	if f.Capabilities == nil {
		f.Capabilities = []string{}
	}
	b, _ := json.Marshal(f)
	return b
}
