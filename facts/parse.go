package facts

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode"
)

// Limits on what a host may tell: output beyond them is ignored, so a
// hostile or broken host cannot make state grow without bound.
const (
	maxDevices  = 1024
	maxValueLen = 256
	maxIDLike   = 16
)

// MaxAnswer bounds the facts command's answer. A host prints a few KiB
// (a machine with a thousand block devices about 100 KiB); an answer of
// 1 MiB or more holds something else, and is what remote keeps of a
// longer one (its last MiB: remote.MaxCapture), without the first
// sections.
const MaxAnswer = 1 << 20

// ErrNoFacts is returned for output that is not the facts command's.
var ErrNoFacts = errors.New("the host's answer to the facts command holds no facts section (is /bin/sh a POSIX shell?)")

// Parse reads the output of Command. A section that is missing or
// unreadable leaves its facts at their zero value (a host without dpkg,
// lsblk or /proc/meminfo). The answer itself must be whole: at most
// MaxAnswer bytes, with the first section (os-release) and the end line
// the command prints last. A part of one would record the facts it lacks
// as none (no OS, no cores), and the next refresh would find them
// "changed", re-gathering them and running again every step that reads
// them.
func Parse(out string) (Facts, error) {
	if len(out) >= MaxAnswer {
		return Facts{}, fmt.Errorf("the host's answer to the facts command is %d bytes or more (%d bytes kept): no host's facts take that much "+
			"(a few KiB; about 100 KiB for a thousand block devices), so it holds something else, and its start is lost; not recorded", MaxAnswer, len(out))
	}
	sections := split(out)
	if len(sections) == 0 {
		return Facts{}, ErrNoFacts
	}
	if _, ok := sections["end"]; !ok {
		return Facts{}, errors.New("the host's answer to the facts command is cut short: it lacks the @@facts:end line the command prints last " +
			"(the shell stopped before its end, or a wrapper on the host passed on part of it); not recorded")
	}
	if _, ok := sections["os-release"]; !ok {
		return Facts{}, errors.New("the host's answer to the facts command lacks its first section (@@facts:os-release), which the command prints " +
			"whatever the host has: the answer is not the facts command's whole output; not recorded")
	}
	f := Facts{Devices: []Device{}}
	f.OS = parseOSRelease(sections["os-release"])
	f.Arch = word(firstLine(sections["uname-m"]))
	f.PackageArch = word(firstLine(sections["dpkg-arch"]))
	if f.PackageArch == "" {
		f.PackageArch = word(firstLine(sections["rpm-arch"]))
		if strings.Contains(f.PackageArch, "%") {
			f.PackageArch = "" // rpm printed the macro unexpanded
		}
	}
	if n, err := strconv.Atoi(strings.TrimSpace(firstLine(sections["nproc"]))); err == nil && n > 0 && n < 1<<20 {
		f.Cores = n
	}
	f.MemoryMB = parseMemTotal(sections["meminfo"])
	memLimit, cpuLimit := parseCgroup(sections["cgroup"])
	if mb := int(memLimit >> 20); memLimit > 0 && mb > 0 && (f.MemoryMB == 0 || mb < f.MemoryMB) {
		f.MemoryMB = mb
	}
	if cpuLimit > 0 && (f.Cores == 0 || cpuLimit < f.Cores) {
		f.Cores = cpuLimit
	}
	f.Capabilities = parseCapBnd(sections["capbnd"])
	if s, ok := sections["lsblk"]; ok {
		f.Devices = parseLsblk(s)
	} else if s, ok := sections["sysblock"]; ok {
		f.Devices = parseSysBlock(s, sections["mounts"])
	}
	if s, ok := sections["devnodes"]; ok {
		f.Devices = withNodes(f.Devices, s)
	}
	return f, nil
}

// split cuts the output into its sections by their "@@facts:NAME" lines.
// A name met twice keeps its first section.
func split(out string) map[string]string {
	sections := map[string]string{}
	name := ""
	var b strings.Builder
	flush := func() {
		if _, seen := sections[name]; name != "" && !seen {
			sections[name] = b.String()
		}
		b.Reset()
	}
	for _, line := range strings.Split(strings.ReplaceAll(out, "\r\n", "\n"), "\n") {
		if n, ok := strings.CutPrefix(line, "@@facts:"); ok {
			flush()
			name = strings.TrimSpace(n)
			continue
		}
		if name != "" {
			b.WriteString(line)
			b.WriteByte('\n')
		}
	}
	flush()
	return sections
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// word is s if it is one token of the characters that names of devices,
// architectures, distributions, versions and filesystem types use
// (letters, digits and ._+:@!~-, not starting with - and not . or ..),
// else "". Facts end up in other steps' commands and paths, on this host
// and others: a host that names its OS "$(reboot)" or a device
// "../../etc" tells nothing.
func word(s string) string {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > maxValueLen || s[0] == '-' || s == "." || s == ".." {
		return ""
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("._+:@!~-", c) >= 0) {
			return ""
		}
	}
	return s
}

// clean drops control and invalid characters and bounds the length: facts
// end up in plans and terminals.
func clean(s string) string {
	s = strings.Map(func(r rune) rune {
		if r == unicode.ReplacementChar || unicode.IsControl(r) {
			return -1
		}
		return r
	}, s)
	if len(s) > maxValueLen {
		s = strings.ToValidUTF8(s[:maxValueLen], "")
	}
	return s
}

// parseOSRelease reads os-release(5): KEY=value lines, values perhaps
// quoted with " or ' and backslash escapes inside double quotes.
func parseOSRelease(s string) OS {
	kv := map[string]string{}
	for _, line := range strings.Split(s, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok || k == "" || strings.ContainsAny(k, " \t") {
			continue
		}
		if _, seen := kv[k]; !seen {
			kv[k] = clean(unquote(v))
		}
	}
	os := OS{ID: strings.ToLower(word(kv["ID"])), VersionID: word(kv["VERSION_ID"]), Name: kv["PRETTY_NAME"], IDLike: []string{}}
	if os.Name == "" {
		os.Name = kv["NAME"]
	}
	for _, w := range strings.Fields(strings.ToLower(kv["ID_LIKE"])) {
		if w = word(w); w != "" && len(os.IDLike) < maxIDLike {
			os.IDLike = append(os.IDLike, w)
		}
	}
	os.Family = family(os.ID, os.IDLike)
	return os
}

func unquote(v string) string {
	v = strings.TrimSpace(v)
	if len(v) >= 2 && v[0] == '\'' && v[len(v)-1] == '\'' {
		return v[1 : len(v)-1]
	}
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
		v = v[1 : len(v)-1]
		var b strings.Builder
		for i := 0; i < len(v); i++ {
			if v[i] == '\\' && i+1 < len(v) {
				i++
			}
			b.WriteByte(v[i])
		}
		return b.String()
	}
	return v
}

// families maps an os-release ID (or an ID_LIKE word) to its family.
var families = map[string]string{
	"debian": "debian", "ubuntu": "debian", "raspbian": "debian", "linuxmint": "debian", "devuan": "debian", "kali": "debian",
	"rhel": "rhel", "centos": "rhel", "fedora": "rhel", "rocky": "rhel", "almalinux": "rhel", "ol": "rhel", "amzn": "rhel",
	"suse": "suse", "opensuse": "suse", "sles": "suse", "opensuse-leap": "suse", "opensuse-tumbleweed": "suse",
	"alpine": "alpine", "arch": "arch", "manjaro": "arch",
}

func family(id string, like []string) string {
	if f, ok := families[id]; ok {
		return f
	}
	for _, l := range like {
		if f, ok := families[l]; ok {
			return f
		}
	}
	return id
}

// parseMemTotal reads "MemTotal:  16384256 kB" into MiB.
func parseMemTotal(s string) int {
	fields := strings.Fields(firstLine(s))
	if len(fields) < 2 || fields[0] != "MemTotal:" {
		return 0
	}
	kb, err := strconv.ParseInt(fields[1], 10, 64)
	if err != nil || kb <= 0 || kb > 1<<50 {
		return 0
	}
	if len(fields) >= 3 && !strings.EqualFold(fields[2], "kB") {
		return 0
	}
	return int(kb / 1024)
}

// parseCgroup reads the cgroup section: one line per limit file of the
// shell's cgroup and each cgroup above it ("memory.max 536870912",
// "cpu.max 150000 100000", "memory.limit_in_bytes N", "cpu.cfs_quota_us
// QUOTA PERIOD"). It returns the lowest memory limit in bytes and the
// lowest CPU limit in whole cores, rounded up as Go's GOMAXPROCS and
// the JVM round a fractional --cpus (1.5 cores is 2), each 0 where no
// cgroup sets one ("max", a v1 quota of -1, cgroup v1's "no limit" of
// nearly 2^63 bytes, which would be taken for the host's memory where
// MemTotal could not be read).
func parseCgroup(s string) (memBytes int64, cores int) {
	for _, line := range strings.Split(s, "\n") {
		fields := strings.Fields(line)
		if len(fields) < 2 {
			continue
		}
		switch fields[0] {
		case "memory.max", "memory.limit_in_bytes":
			n, err := strconv.ParseInt(fields[1], 10, 64)
			if err == nil && n > 0 && n < cgroupNoLimit && (memBytes == 0 || n < memBytes) {
				memBytes = n
			}
		case "cpu.max", "cpu.cfs_quota_us":
			if len(fields) < 3 {
				continue
			}
			quota, err1 := strconv.ParseInt(fields[1], 10, 64)
			period, err2 := strconv.ParseInt(fields[2], 10, 64)
			if err1 != nil || err2 != nil || quota <= 0 || period <= 0 || quota/period >= 1<<20 {
				continue
			}
			if c := int((quota + period - 1) / period); cores == 0 || c < cores {
				cores = c
			}
		}
	}
	return memBytes, cores
}

// cgroupNoLimit: a memory limit of this many bytes or more is cgroup v1's
// "no limit" (the page counter's maximum times the page size, just below
// 2^63 for any page size), not a limit.
const cgroupNoLimit = 1 << 62

// withNodes keeps the devices named in nodes (one name per line: the
// block device nodes of /dev and /dev/mapper). A device the host has no
// node for cannot be formatted or mounted there: a container's other
// loop devices belong to other containers or to nobody.
func withNodes(devs []Device, nodes string) []Device {
	have := map[string]bool{}
	for _, n := range strings.Split(nodes, "\n") {
		if n = strings.TrimSpace(n); n != "" {
			have[n] = true
		}
	}
	return slices.DeleteFunc(devs, func(d Device) bool { return !have[d.Name] })
}

// parseLsblk reads `lsblk -b -P` lines: KEY="value" pairs.
func parseLsblk(s string) []Device {
	devs := []Device{}
	for _, line := range strings.Split(s, "\n") {
		if len(devs) >= maxDevices {
			break
		}
		kv := pairs(line)
		name := word(kv["NAME"])
		if name == "" {
			continue
		}
		d := Device{Name: name, Type: word(kv["TYPE"]), Mountpoint: clean(kv["MOUNTPOINT"]), FSType: word(kv["FSTYPE"])}
		if n, err := strconv.ParseInt(kv["SIZE"], 10, 64); err == nil && n > 0 {
			d.SizeBytes = n
		}
		devs = append(devs, d)
	}
	return devs
}

// pairs reads KEY="value" pairs as lsblk -P prints them (it escapes
// unsafe bytes as \xNN).
func pairs(line string) map[string]string {
	kv := map[string]string{}
	for line != "" {
		line = strings.TrimLeft(line, " \t")
		eq := strings.Index(line, `="`)
		if eq <= 0 {
			break
		}
		key := line[:eq]
		rest := line[eq+2:]
		end := strings.IndexByte(rest, '"')
		if end < 0 {
			break
		}
		kv[key] = UnescapeHex(rest[:end])
		line = rest[end+1:]
	}
	return kv
}

// UnescapeHex undoes the \xHH escapes with which lsblk -P and findmnt -r
// print bytes that are not plain (spaces, quotes, non-ASCII).
func UnescapeHex(s string) string {
	if !strings.Contains(s, `\x`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) && s[i+1] == 'x' {
			if n, err := strconv.ParseUint(s[i+2:i+4], 16, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// parseSysBlock reads "NAME SECTORS" lines from /sys/block (512-byte
// sectors whatever the device's block size) and takes mountpoints and
// filesystem types from /proc/mounts.
func parseSysBlock(s, mounts string) []Device {
	type mnt struct{ point, fstype string }
	byDev := map[string]mnt{}
	for _, line := range strings.Split(mounts, "\n") {
		f := strings.Fields(line)
		if len(f) < 3 || !strings.HasPrefix(f[0], "/dev/") {
			continue
		}
		name := strings.TrimPrefix(f[0], "/dev/")
		if _, seen := byDev[name]; !seen {
			byDev[name] = mnt{clean(unescapeOctal(f[1])), word(f[2])}
		}
	}
	devs := []Device{}
	for _, line := range strings.Split(s, "\n") {
		if len(devs) >= maxDevices {
			break
		}
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		name := word(f[0])
		if name == "" || strings.Contains(name, "/") {
			continue
		}
		d := Device{Name: name, Type: "disk"}
		switch {
		case strings.HasPrefix(name, "loop"):
			d.Type = "loop"
		case strings.HasPrefix(name, "sr"):
			d.Type = "rom"
		case strings.HasPrefix(name, "dm-"):
			d.Type = "lvm"
		}
		if len(f) >= 2 {
			if n, err := strconv.ParseInt(f[1], 10, 64); err == nil && n > 0 && n < 1<<54 {
				d.SizeBytes = n * 512
			}
		}
		if m, ok := byDev[name]; ok {
			d.Mountpoint, d.FSType = m.point, m.fstype
		}
		devs = append(devs, d)
	}
	sort.SliceStable(devs, func(i, j int) bool { return devs[i].Name < devs[j].Name })
	return devs
}

// unescapeOctal undoes /proc/mounts' \040-style escapes.
func unescapeOctal(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
