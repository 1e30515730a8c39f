package facts

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"diffuser/internal/strictjson"
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
	// "cores": null or a key given twice (state checks the facts as raw
	// JSON, not as Facts) is not what diffuser records: read as not
	// recorded (gathered again), not as no cores.
	if err := strictjson.Unmarshal(raw, &f); err != nil {
		return Facts{}, false
	}
	return f.bounded(), true
}

// bounded holds f to the rules Parse reads a host's answer by: facts
// recorded in a state file (written by another diffuser, or edited) reach
// recipes as the ones a host tells do. A value Parse would not have kept
// is dropped, as Parse drops it.
func (f Facts) bounded() Facts {
	o := f.OS
	out := Facts{
		OS:   OS{ID: strings.ToLower(word(o.ID)), VersionID: word(o.VersionID), Name: clean(o.Name), IDLike: []string{}},
		Arch: word(f.Arch), PackageArch: word(f.PackageArch), Devices: []Device{},
	}
	for _, l := range o.IDLike {
		if l = strings.ToLower(word(l)); l != "" && len(out.OS.IDLike) < maxIDLike {
			out.OS.IDLike = append(out.OS.IDLike, l)
		}
	}
	out.OS.Family = family(out.OS.ID, out.OS.IDLike)
	if f.Cores > 0 && f.Cores < 1<<20 {
		out.Cores = f.Cores
	}
	if f.MemoryMB > 0 && f.MemoryMB <= 1<<40 {
		out.MemoryMB = f.MemoryMB
	}
	for _, d := range f.Devices {
		if len(out.Devices) >= maxDevices {
			break
		}
		if d.Name = word(d.Name); d.Name == "" {
			continue
		}
		d.Type, d.FSType, d.Mountpoint = word(d.Type), word(d.FSType), clean(d.Mountpoint)
		d.SizeBytes = max(d.SizeBytes, 0)
		out.Devices = append(out.Devices, d)
	}
	if f.Capabilities != nil { // nil: recorded before capabilities were a fact
		out.Capabilities = knownCapabilities(f.Capabilities)
	}
	return out
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
