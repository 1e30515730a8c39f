// Package memlimit gives the diffuser binary its soft memory limit: the
// garbage collector runs with a high target (GOGC=400, for speed on big
// plans and applies) and collects harder only as the heap nears this
// limit, so a small controller trades speed for memory instead of being
// killed for lack of it.
package memlimit

import (
	"os"
	"runtime/debug"
	"strconv"
	"strings"
)

// Fraction is the share of the machine's memory (or of its cgroup's limit,
// when lower) the default soft limit allows: a 100,000-instance apply
// peaks at about 1 GiB at GOGC=400 and needs about 0.5 GiB live
// (docs/scale.md), so controllers with 2 GiB or more never reach it.
const Fraction = 2

// Apply sets the soft memory limit unless GOMEMLIMIT is set (Go applies
// that one itself). It returns the limit in bytes, 0 when none was set
// (the machine's memory could not be read).
func Apply() int64 {
	if os.Getenv("GOMEMLIMIT") != "" {
		return 0
	}
	limit := Default(readFile)
	if limit > 0 {
		debug.SetMemoryLimit(limit)
	}
	return limit
}

func readFile(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	return string(b)
}

// Default is 1/Fraction of the lower of the machine's memory
// (/proc/meminfo's MemTotal) and its cgroup's memory limit (v2
// memory.max, v1 memory.limit_in_bytes); 0 when neither can be read.
// read returns a file's text, "" when it cannot.
func Default(read func(path string) string) int64 {
	total := memTotal(read("/proc/meminfo"))
	for _, p := range []string{"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"} {
		if n, err := strconv.ParseInt(strings.TrimSpace(read(p)), 10, 64); err == nil && n > 0 && (total == 0 || n < total) {
			total = n // "max" (no limit) does not parse
		}
	}
	return total / Fraction
}

// memTotal is MemTotal of /proc/meminfo's text in bytes, 0 if absent.
func memTotal(meminfo string) int64 {
	for _, line := range strings.Split(meminfo, "\n") {
		rest, ok := strings.CutPrefix(line, "MemTotal:")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) == 0 {
			return 0
		}
		kb, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil || kb <= 0 {
			return 0
		}
		return kb << 10
	}
	return 0
}
