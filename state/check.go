package state

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// FieldError is a value of a state file that is parsed but cannot be
// right: Path is its JSON location, e.g. hosts["server[0]"].ssh.port.
type FieldError struct {
	Path string
	Err  error
}

func (e *FieldError) Error() string { return e.Path + ": " + e.Err.Error() }
func (e *FieldError) Unwrap() error { return e.Err }

// Check refuses a state that contradicts itself or records values no
// provider could have answered: a host filed under another host's name, an
// instance key naming another step or host than its fields, a private or
// public address that is not an address, a port out of range, a user or
// jump host that could be read as an option or a shell word, a volume
// device that is not an absolute path. Values in state reach commands and
// ssh command lines, so they are checked when state is read, as site files
// are when they are read. The first problem is returned, in key order.
func (s *State) Check() error {
	if s.Serial > MaxSerial {
		// Save adds one: at the top of uint64 it would wrap to 0, which
		// reads as a workspace never applied, and a journal or a backend
		// comparing serials would take the newer state for the older.
		return &FieldError{Path: "serial", Err: fmt.Errorf("%d is past %d: no diffuser counts that far; the file was edited (put back the serial it had, or the backup)", s.Serial, uint64(MaxSerial))}
	}
	for _, k := range sortedKeys(s.Hosts) {
		at := "hosts[" + strconv.Quote(k) + "]"
		h := s.Hosts[k]
		if h.Name != "" && h.Name != k {
			return &FieldError{Path: at + ".name", Err: fmt.Errorf("host %q is filed under %q: the key and the name must agree", h.Name, k)}
		}
		if err := h.Check(); err != nil {
			if fe, ok := err.(*FieldError); ok {
				return &FieldError{Path: at + fe.Path, Err: fe.Err}
			}
			return &FieldError{Path: at, Err: err}
		}
	}
	for _, k := range sortedKeys(s.Steps) {
		in := s.Steps[k]
		at := "instances[" + strconv.Quote(k) + "]"
		if in.Status != StatusApplied && in.Status != StatusFailed && in.Status != "" {
			return &FieldError{Path: at + ".status", Err: fmt.Errorf("%s is not a status diffuser records (%s or %s)", strconv.Quote(in.Status), StatusApplied, StatusFailed)}
		}
		for _, f := range []struct{ name, v string }{{"step", in.Step}, {"host", in.Host}, {"kind", in.Kind}, {"digest", in.Digest}} {
			if strings.ContainsFunc(f.v, isControl) {
				return &FieldError{Path: at + "." + f.name, Err: fmt.Errorf("%s: a %s with control characters", strconv.Quote(f.v), f.name)}
			}
		}
		if in.Step == "" && in.Host == "" {
			continue
		}
		if want := stepAddr(in.Step) + "[" + strconv.Quote(in.Host) + "]"; in.Host != "" && k != want {
			return &FieldError{Path: at, Err: fmt.Errorf("the key names another instance than its fields (step %q on host %q, which is %s)", in.Step, in.Host, want)}
		}
	}
	return nil
}

// MaxSerial bounds a state's serial: 2^53, the largest integer every JSON
// reader (jq, JavaScript) holds exactly; a save a second for a hundred
// million years stays below it.
const MaxSerial = 1 << 53

// NextSerial is the serial a save after serial writes: one more, or an
// error at MaxSerial, so that no save writes a state Check refuses.
func NextSerial(serial uint64) (uint64, error) {
	if serial >= MaxSerial {
		return 0, &FieldError{Path: "serial", Err: fmt.Errorf("%d leaves no room for another save (at most %d): the file was edited; put back the serial it had, or the backup", serial, uint64(MaxSerial))}
	}
	return serial + 1, nil
}

// Check checks one recorded host's fields (see State.Check); a
// *FieldError's Path starts with "." relative to the host.
func (h *Host) Check() error {
	fe := func(path string, err error) error { return &FieldError{Path: path, Err: err} }
	for _, f := range []struct{ name, v string }{{"name", h.Name}, {"group", h.Group}, {"provider", h.Provider}, {"provider_id", h.ProviderID}} {
		if strings.ContainsFunc(f.v, isControl) {
			return fe("."+f.name, fmt.Errorf("%s: a %s with control characters", strconv.Quote(f.v), strings.ReplaceAll(f.name, "_", " ")))
		}
	}
	if h.PrivateIP != "" {
		if err := CheckAddress(h.PrivateIP); err != nil {
			return fe(".private_ip", err)
		}
	}
	if h.PublicIP != "" {
		if err := CheckAddress(h.PublicIP); err != nil {
			return fe(".public_ip", err)
		}
	}
	path := ".ssh"
	for s, depth := &h.SSH, 0; s != nil; s, depth = s.Jump, depth+1 {
		if depth > 16 {
			return fe(path, fmt.Errorf("more than 16 jump hosts"))
		}
		if s.Address != "" {
			if err := CheckAddress(s.Address); err != nil {
				return fe(path+".address", err)
			}
		} else if depth > 0 {
			return fe(path+".address", fmt.Errorf("a jump host without an address"))
		}
		if s.Port < 0 || s.Port > 65535 {
			return fe(path+".port", fmt.Errorf("port %d is out of range (1 to 65535)", s.Port))
		}
		if s.User != "" {
			if err := CheckUser(s.User); err != nil {
				return fe(path+".user", err)
			}
		}
		if strings.ContainsFunc(s.HostKey, isControl) {
			return fe(path+".host_key", fmt.Errorf("a host key is one line without control characters"))
		}
		for i, f := range append([]string{s.KeyFile}, s.IdentityFiles...) {
			if strings.ContainsFunc(f, isControl) {
				p := path + ".key_file"
				if i > 0 {
					p = fmt.Sprintf("%s.identity_files[%d]", path, i-1)
				}
				return fe(p, fmt.Errorf("%q: a file name with control characters", f))
			}
		}
		path += ".jump"
	}
	for _, n := range sortedKeys(h.Volumes) {
		if err := CheckDevice(h.Volumes[n].Device); err != nil {
			return fe(".volumes["+strconv.Quote(n)+"].device", err)
		}
		if h.Volumes[n].SizeGB < 0 {
			return fe(".volumes["+strconv.Quote(n)+"].size_gb", fmt.Errorf("a negative size"))
		}
	}
	return nil
}

// CheckAddress accepts an IP address or a host name: letters, digits,
// '.', '-', '_' (and '[', ']' for names like the simulator's), not
// starting with '-', at most 253 bytes. Nothing a shell or ssh would read
// as more than one word or as an option passes. An IPv6 address may carry
// a zone (fe80::1%eth0): netip takes any text there, so the zone is held
// to an interface name's letters, digits, '.', '_' and '-' (recipes paste
// host.private_ip into commands as it is).
func CheckAddress(a string) error {
	if ip, err := netip.ParseAddr(a); err == nil {
		if !zoneOK(ip.Zone()) {
			return fmt.Errorf("%q: the zone after %%, %q, is not an interface name (letters, digits, '.', '_' and '-')", a, ip.Zone())
		}
		return nil
	}
	ok := a != "" && len(a) <= 253 && a[0] != '-' && a[0] != '.'
	for i := 0; ok && i < len(a); i++ {
		c := a[i]
		ok = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_' || c == '[' || c == ']'
	}
	if !ok {
		return fmt.Errorf("%q is neither an IP address nor a host name (letters, digits, '.', '-', '_', not starting with '-')", a)
	}
	return nil
}

// zoneOK says whether an IPv6 zone is empty or an interface name.
func zoneOK(z string) bool {
	for i := 0; i < len(z); i++ {
		c := z[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return len(z) <= 64
}

// CheckUser accepts login names: letters, digits, '.', '_', '-', not
// starting with '-' (a trailing '$' as Samba machine accounts have).
func CheckUser(u string) error {
	ok := u != "" && len(u) <= 256 && u[0] != '-'
	for i := 0; ok && i < len(u); i++ {
		c := u[i]
		ok = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-' ||
			c == '$' && i == len(u)-1
	}
	if !ok {
		return fmt.Errorf("%q is not a user name (letters, digits, '.', '_', '-', not starting with '-')", u)
	}
	return nil
}

// CheckDevice accepts an absolute block device path: letters, digits and
// "/._-:+,=@", no "..", at most 4096 bytes (e.g. /dev/sdb,
// /dev/disk/by-id/nvme-Amazon_EBS_vol0123, /dev/disk/by-path/pci-0000:00:1f.2-ata-1).
func CheckDevice(d string) error {
	ok := strings.HasPrefix(d, "/") && len(d) <= 4096 && !strings.Contains(d, "/../") && !strings.HasSuffix(d, "/..")
	for i := 0; ok && i < len(d); i++ {
		c := d[i]
		ok = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("/._-:+,=@", c) >= 0
	}
	if !ok {
		return fmt.Errorf("%q is not a device path (absolute, letters, digits and \"/._-:+,=@\", e.g. /dev/sdb)", d)
	}
	return nil
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

// stepAddr is the address of a step recorded as name: step.NAME, or the
// name itself for a module's step (module.M.step.NAME).
func stepAddr(name string) string {
	if strings.HasPrefix(name, "module.") {
		return name
	}
	return "step." + name
}
