package workspace

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// LogFile is one host's log of a step from the last apply or destroy.
type LogFile struct {
	Step     string
	Host     string // the file's name without .log (host names are kept as they are)
	Path     string
	Modified time.Time
	Content  []byte
}

// Logs reads the logs of step, on every host or on host only, from
// <data-dir>/logs/<step>/<host>.log, sorted by host. Errors name the steps
// or hosts that do have logs.
func (e *Env) Logs(step, host string) ([]LogFile, error) {
	base, dir := e.Layout().Logs(), e.Layout().StepLogs(step)
	ents, err := os.ReadDir(dir)
	if err != nil {
		stepDirs, _ := os.ReadDir(base)
		var names []string
		for _, ent := range stepDirs {
			if ent.IsDir() {
				names = append(names, ent.Name())
			}
		}
		if len(names) == 0 {
			return nil, fmt.Errorf("no logs under %s: nothing was applied with --data-dir %s", base, e.dataDir())
		}
		return nil, fmt.Errorf("no logs for step %q under %s; steps with logs: %s", step, base, strings.Join(names, ", "))
	}
	var hosts []string
	var out []LogFile
	for _, ent := range ents {
		if ent.IsDir() || !strings.HasSuffix(ent.Name(), ".log") {
			continue
		}
		name := strings.TrimSuffix(ent.Name(), ".log")
		hosts = append(hosts, name)
		if host != "" && ent.Name() != LogName(host)+".log" {
			continue
		}
		p := filepath.Join(dir, ent.Name())
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("reading log: %w", err)
		}
		lf := LogFile{Step: step, Host: name, Path: p, Content: b}
		if fi, err := os.Stat(p); err == nil {
			lf.Modified = fi.ModTime()
		}
		out = append(out, lf)
	}
	if len(out) == 0 {
		if host == "" {
			return nil, fmt.Errorf("no logs for step %q in %s", step, dir)
		}
		return nil, fmt.Errorf("no log of step %s on host %q; hosts with logs: %s", step, host, strings.Join(hosts, ", "))
	}
	return out, nil
}
