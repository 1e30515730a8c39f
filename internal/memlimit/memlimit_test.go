package memlimit

import "testing"

func TestDefault(t *testing.T) {
	const meminfo = "MemTotal:       24683832 kB\nMemFree:        16253440 kB\n"
	files := func(m map[string]string) func(string) string { return func(p string) string { return m[p] } }
	for _, tc := range []struct {
		name  string
		files map[string]string
		want  int64
	}{
		{"machine", map[string]string{"/proc/meminfo": meminfo}, 24683832 << 10 / 2},
		{"cgroup v2 without a limit", map[string]string{"/proc/meminfo": meminfo, "/sys/fs/cgroup/memory.max": "max\n"}, 24683832 << 10 / 2},
		{"cgroup v2 limit", map[string]string{"/proc/meminfo": meminfo, "/sys/fs/cgroup/memory.max": "2147483648\n"}, 1 << 30},
		{"cgroup v1 limit", map[string]string{"/proc/meminfo": meminfo, "/sys/fs/cgroup/memory/memory.limit_in_bytes": "1073741824\n"}, 512 << 20},
		{"cgroup above the machine", map[string]string{"/proc/meminfo": meminfo, "/sys/fs/cgroup/memory/memory.limit_in_bytes": "9223372036854771712"}, 24683832 << 10 / 2},
		{"only a cgroup", map[string]string{"/sys/fs/cgroup/memory.max": "4294967296"}, 2 << 30},
		{"nothing readable", map[string]string{}, 0},
		{"damaged meminfo", map[string]string{"/proc/meminfo": "MemTotal: lots kB\n"}, 0},
	} {
		if got := Default(files(tc.files)); got != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, got, tc.want)
		}
	}
}
