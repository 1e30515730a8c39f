package workspace

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"diffuser/lang"
	"diffuser/remote"
)

// LogsRequest selects step logs.
type LogsRequest struct {
	Workspace string // "" = every workspace
	Run       string // a run id or a unique prefix; "" = the latest run that logged the step
	Step      string
	Host      string // "" = every host the step logged on
}

// LogFile is one host's log of a step in a run.
type LogFile struct {
	Host string // the host name, sanitized (remote.LogName)
	// Path is the file the log is in: the run's steps.log, or for runs
	// written before it existed <step>/<host>.log.
	Path string
	text []byte // the instance's records in steps.log; nil: all of Path
}

// Read returns the log's text: per command a header, its output and a
// footer (views.LogJSON).
func (f LogFile) Read() ([]byte, error) {
	if f.text != nil {
		return f.text, nil
	}
	return os.ReadFile(f.Path)
}

// StepLogs are the log files found for a LogsRequest.
type StepLogs struct {
	Run   *Run
	Files []LogFile
	// Latest is the latest run looked at when the logs come from an
	// earlier one (the step, or the host, did not log in it); nil when
	// they come from the latest run or from the run asked for.
	Latest *Run
}

// StepLogs finds a step's logs: in the run asked for, else in the latest
// run (of the workspace, or of any workspace) that logged the step (on
// the host, when one is given). Errors name the steps and hosts that do
// have logs.
func (e *Env) StepLogs(req LogsRequest) (*StepLogs, error) {
	var runs []*Run
	if req.Run != "" {
		r, err := e.FindRun(req.Workspace, req.Run)
		if err != nil {
			return nil, err
		}
		runs = []*Run{r}
	} else {
		var err error
		if runs, err = e.Runs(req.Workspace); err != nil {
			return nil, err
		}
	}
	if len(runs) == 0 {
		where := e.dataDir()
		if req.Workspace != "" {
			where = e.Layout().Runs(req.Workspace)
		}
		err := fmt.Errorf("no logs under %s: no apply or destroy has run there (logs are kept per run, see diffuser runs)", where)
		if legacy := filepath.Join(e.dataDir(), "logs"); isDir(legacy) {
			err = fmt.Errorf("%w; the logs of the last apply before runs existed are still in %s", err, legacy)
		}
		return nil, err
	}
	var withStep *Run // the latest run that logged the step, on any host
	for _, r := range runs {
		files, err := runLogFiles(r, req.Step)
		if err != nil {
			return nil, fmt.Errorf("logs of run %s: %w", r.ID, err)
		}
		if len(files) > 0 && withStep == nil {
			withStep = r
		}
		if req.Host != "" {
			files = filterHost(files, req.Host)
		}
		if len(files) > 0 {
			out := &StepLogs{Run: r, Files: files}
			if r != runs[0] {
				out.Latest = runs[0]
			}
			return out, nil
		}
	}
	if withStep != nil {
		var hosts []string
		files, _ := runLogFiles(withStep, req.Step) // read once above
		for _, f := range files {
			hosts = append(hosts, f.Host)
		}
		return nil, fmt.Errorf("no log of step %s on host %q in %s; hosts with logs in run %s: %s",
			req.Step, req.Host, runsWhere(req, runs), withStep.ID, strings.Join(hosts, ", "))
	}
	if meant := loggedStepMeant(runs, req.Step); meant != "" {
		why := ""
		if strings.HasSuffix(meant, ".step."+req.Step) {
			why = " (a step of a module is named by its address)"
		}
		return nil, fmt.Errorf("no logs for step %q in %s; did you mean %s?%s", req.Step, runsWhere(req, runs), meant, why)
	}
	steps := runSteps(runs[0])
	if len(steps) == 0 {
		return nil, fmt.Errorf("no logs for step %q in %s; run %s logged no step (simulated steps, or nothing ran a command)",
			req.Step, runsWhere(req, runs), runs[0].ID)
	}
	return nil, fmt.Errorf("no logs for step %q in %s; steps with logs in run %s: %s",
		req.Step, runsWhere(req, runs), runs[0].ID, strings.Join(steps, ", "))
}

func runsWhere(req LogsRequest, runs []*Run) string {
	switch {
	case req.Run != "":
		return "run " + runs[0].ID
	case req.Workspace != "":
		return fmt.Sprintf("the %d run(s) of workspace %s", len(runs), req.Workspace)
	}
	return fmt.Sprintf("the %d run(s) kept", len(runs))
}

// runLogFiles lists a step's logs in a run, by host: the instances'
// records in the run's steps.log, and the per-instance files
// (<step>/<host>.log) of runs written by earlier versions, sorted by
// host. The error is a run log that cannot be read (what was read of it
// is listed).
func runLogFiles(r *Run, step string) ([]LogFile, error) {
	var out []LogFile
	dir := filepath.Join(r.LogDir(), LogName(step))
	ents, _ := os.ReadDir(dir)
	for _, ent := range ents {
		if ent.IsDir() || !strings.HasSuffix(ent.Name(), ".log") {
			continue
		}
		out = append(out, LogFile{Host: strings.TrimSuffix(ent.Name(), ".log"), Path: filepath.Join(dir, ent.Name())})
	}
	p := filepath.Join(r.LogDir(), remote.RunLogName)
	hosts, texts, err := remote.InstanceLogs(p, step)
	if errors.Is(err, fs.ErrNotExist) {
		err = nil // an earlier version's run, or nothing logged
	}
	for _, h := range hosts {
		out = append(out, LogFile{Host: h, Path: p, text: texts[h]})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Host < out[j].Host })
	return out, err
}

func filterHost(files []LogFile, host string) []LogFile {
	for _, f := range files {
		if f.Host == LogName(host) {
			return []LogFile{f}
		}
	}
	return nil
}

// runSteps lists the steps that logged in a run, sorted.
func runSteps(r *Run) []string {
	seen := map[string]bool{}
	ents, _ := os.ReadDir(r.LogDir())
	for _, ent := range ents {
		if ent.IsDir() { // a run written by an earlier version
			seen[ent.Name()] = true
		}
	}
	if steps, _, err := remote.LoggedInstances(filepath.Join(r.LogDir(), remote.RunLogName)); err == nil {
		for _, s := range steps {
			seen[s] = true
		}
	}
	return sortedSet(seen)
}

// loggedStepMeant is the step with logs in one of runs that name meant:
// the one step of a module whose last part is name (service for
// module.web.step.service), else the nearest name; "" when neither.
func loggedStepMeant(runs []*Run, name string) string {
	seen := map[string]bool{}
	for _, r := range runs {
		for _, s := range runSteps(r) {
			seen[s] = true
		}
	}
	all := sortedSet(seen)
	var ends []string
	for _, s := range all {
		if strings.HasSuffix(s, ".step."+name) {
			ends = append(ends, s)
		}
	}
	if len(ends) > 0 {
		return strings.Join(ends, " or ")
	}
	return lang.Suggest(name, all)
}

// LoggedSteps lists the steps with logs in any kept run (of workspace
// name, or of every workspace with ""), for completion.
func (e *Env) LoggedSteps(name string) []string {
	runs, _ := e.Runs(name)
	seen := map[string]bool{}
	for _, r := range runs {
		for _, s := range runSteps(r) {
			seen[s] = true
		}
	}
	return sortedSet(seen)
}

// LoggedHosts lists the hosts a step logged on in any kept run, for
// completion.
func (e *Env) LoggedHosts(name, step string) []string {
	runs, _ := e.Runs(name)
	seen := map[string]bool{}
	for _, r := range runs {
		files, _ := runLogFiles(r, step) // completion: what can be read
		for _, f := range files {
			seen[f.Host] = true
		}
	}
	return sortedSet(seen)
}

// RunIDs lists the kept runs' ids, newest first, for completion.
func (e *Env) RunIDs(name string) []string {
	runs, _ := e.Runs(name)
	out := make([]string, 0, len(runs))
	for _, r := range runs {
		out = append(out, r.ID)
	}
	return out
}

func isDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}

// StepLog returns the log of step on host in the run (either layout);
// an error wrapping fs.ErrNotExist when it logged nothing there.
func (r *Run) StepLog(step, host string) ([]byte, error) {
	files, err := runLogFiles(r, step)
	if err != nil {
		return nil, err
	}
	if f := filterHost(files, host); len(f) == 1 {
		return f[0].Read()
	}
	return nil, fmt.Errorf("run %s: no log of step %s on host %s: %w", r.ID, step, host, fs.ErrNotExist)
}

// LoggedSteps lists the steps that logged in the run (as LogName names
// them), sorted.
func (r *Run) LoggedSteps() []string { return runSteps(r) }
