package facts

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// capNames are the Linux capabilities by number (linux/capability.h,
// capabilities(7)), without their CAP_ prefix, in lower case.
var capNames = [...]string{
	0: "chown", 1: "dac_override", 2: "dac_read_search", 3: "fowner", 4: "fsetid",
	5: "kill", 6: "setgid", 7: "setuid", 8: "setpcap", 9: "linux_immutable",
	10: "net_bind_service", 11: "net_broadcast", 12: "net_admin", 13: "net_raw", 14: "ipc_lock",
	15: "ipc_owner", 16: "sys_module", 17: "sys_rawio", 18: "sys_chroot", 19: "sys_ptrace",
	20: "sys_pacct", 21: "sys_admin", 22: "sys_boot", 23: "sys_nice", 24: "sys_resource",
	25: "sys_time", 26: "sys_tty_config", 27: "mknod", 28: "lease", 29: "audit_write",
	30: "audit_control", 31: "setfcap", 32: "mac_override", 33: "mac_admin", 34: "syslog",
	35: "wake_alarm", 36: "block_suspend", 37: "audit_read", 38: "perfmon", 39: "bpf",
	40: "checkpoint_restore",
}

// CapabilityName is the fact's name of capability number n: its name in
// capabilities(7) without CAP_, in lower case ("net_admin"), or "cap_N"
// for a number newer than this table (a kernel that knows more than
// diffuser does).
func CapabilityName(n int) string {
	if n >= 0 && n < len(capNames) {
		return capNames[n]
	}
	return fmt.Sprintf("cap_%d", n)
}

// parseCapBnd reads the "CapBnd:\t000001ffffffffff" line of
// /proc/self/status into the sorted names of the capabilities set in the
// bounding set. A missing or unreadable line is no capability.
func parseCapBnd(s string) []string {
	names := []string{}
	fields := strings.Fields(firstLine(s))
	if len(fields) != 2 || fields[0] != "CapBnd:" {
		return names
	}
	mask, err := strconv.ParseUint(fields[1], 16, 64)
	if err != nil {
		return names
	}
	for n := 0; n < 64; n++ {
		if mask&(1<<n) != 0 {
			names = append(names, CapabilityName(n))
		}
	}
	sort.Strings(names)
	return names
}

// knownCapabilities is names without what no CapBnd mask gives (a name
// not in the table and not cap_N for a bit past it, N < 64), once each,
// sorted: facts read back from state are held to what Parse makes.
func knownCapabilities(names []string) []string {
	out := []string{}
	for _, c := range names {
		if isCapability(c) {
			out = append(out, c)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// isCapability says whether name is what CapabilityName gives for a bit
// of a 64-bit mask.
func isCapability(name string) bool {
	if slices.Contains(capNames[:], name) {
		return true
	}
	n, err := strconv.Atoi(strings.TrimPrefix(name, "cap_"))
	return err == nil && n >= len(capNames) && n < 64 && name == CapabilityName(n)
}
