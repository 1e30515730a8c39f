package compare

import (
	"bufio"
	"os"
	"runtime"
	"strconv"
	"strings"
)

// MachineInfo describes this machine: hostname, CPUs, memory and kernel
// (Linux's /proc; fields it cannot read stay empty).
func MachineInfo() Machine {
	m := Machine{CPUs: runtime.NumCPU()}
	m.Hostname, _ = os.Hostname()
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	if f, err := os.Open("/proc/meminfo"); err == nil {
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if rest, ok := strings.CutPrefix(sc.Text(), "MemTotal:"); ok {
				if kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64); err == nil {
					m.MemoryBytes = kb << 10
				}
			}
		}
	}
	return m
}
