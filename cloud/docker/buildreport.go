package docker

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// BuildInfo describes a node image build (or pull) that is starting.
type BuildInfo struct {
	Tag     string   // the image being made
	Title   string   // one line saying what is made, how and from where
	Phases  []string // the phases BuildPhase will name, in order
	LogPath string   // the file that receives every line of the build's output
}

// BuildReporter is an optional ability of the progress writer handed to
// EnsureImage and BuildImage (and used by Launch's own builds). Every line
// a build's programs print (debootstrap, apt-get, the engine's stream) is
// written to the writer as to any io.Writer, and to a log file; a writer
// that is also a BuildReporter is told the build's outline too, so it can
// show that and leave the hundreds of lines to the file. Calls come from
// the goroutine running the build, in order: BuildWait at most once, then,
// when this process builds, BuildStart, BuildPhase for each phase, BuildEnd.
type BuildReporter interface {
	BuildWait(lockPath string) // another process is building: waiting for it
	BuildStart(BuildInfo)
	BuildPhase(name string) // name starts; the phase before it, if any, is done
	BuildEnd(err error)     // the last phase is done (err == nil) or failed
}

// Phases of the builds, as BuildPhase names them.
const (
	PhaseInstallDebootstrap = "install debootstrap"
	PhaseDebootstrap        = "debootstrap"
	PhaseNodeSetup          = "node setup"
	PhaseImport             = "import"
	PhaseDockerBuild        = "docker build"
	PhasePull               = "pull"
)

// buildLogName is the build log's file name in the provider's work
// directory (or the temporary directory): the last build's full output.
const buildLogName = "node-image.log"

// buildRun is one build in flight: every output line goes to w (the log
// file and the caller's progress writer); rep, when the progress writer
// has the ability, hears the outline.
type buildRun struct {
	w    io.Writer
	file *os.File
	rep  BuildReporter
}

// startBuild opens the build log (truncating the previous build's), writes
// the title to it and to progress, and tells a reporter the build starts.
func startBuild(dir string, info BuildInfo, progress io.Writer) (*buildRun, error) {
	if dir == "" {
		dir = os.TempDir()
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("node image build log: %w", err)
	}
	info.LogPath = filepath.Join(dir, buildLogName)
	// A new file renamed over the old log: a link planted at its name (in
	// the data directory, or in /tmp by another user) is replaced, never
	// truncated through (O_TRUNC emptied the file it pointed at).
	f, err := os.CreateTemp(dir, "."+buildLogName+"-*")
	if err == nil {
		if err = f.Chmod(0o644); err == nil {
			err = os.Rename(f.Name(), info.LogPath)
		}
		if err != nil {
			f.Close()
			_ = os.Remove(f.Name())
		}
	}
	if err != nil {
		return nil, fmt.Errorf("node image build log %s: %w", info.LogPath, err)
	}
	r := &buildRun{w: io.MultiWriter(f, progress), file: f}
	r.rep, _ = progress.(BuildReporter)
	fmt.Fprintf(f, "%s %s\n", time.Now().Format(time.RFC3339), info.Title)
	if r.rep != nil {
		r.rep.BuildStart(info)
	} else {
		fmt.Fprintf(progress, "%s (full log: %s)\n", info.Title, info.LogPath)
	}
	return r, nil
}

// phase marks the start of a phase in the log and tells the reporter.
func (r *buildRun) phase(name string) {
	fmt.Fprintf(r.file, "%s ==> %s\n", time.Now().Format(time.RFC3339), name)
	if r.rep != nil {
		r.rep.BuildPhase(name)
	}
}

// end closes the log and tells the reporter how the build ended; it
// returns err.
func (r *buildRun) end(err error) error {
	if err != nil {
		fmt.Fprintf(r.file, "%s ==> failed: %v\n", time.Now().Format(time.RFC3339), err)
	} else {
		fmt.Fprintf(r.file, "%s ==> done\n", time.Now().Format(time.RFC3339))
	}
	r.file.Close()
	if r.rep != nil {
		r.rep.BuildEnd(err)
	}
	return err
}

// BuildSummary is a BuildReporter for logs and pipes: a build becomes a
// handful of lines (what is built and where its full log is, each phase
// started and done with its duration, the total) instead of the ~900
// lines debootstrap and apt print, which it drops. When the build fails
// it prints the last lines of output. Safe for concurrent use.
type BuildSummary struct {
	printf func(format string, args ...any)
	now    func() time.Time

	mu         sync.Mutex
	start      time.Time
	tag        string
	phase      string
	phaseStart time.Time
	logPath    string
	tail       []string
	partial    []byte
}

// summaryTail is how many lines of output a failed build's summary shows.
const summaryTail = 20

// NewBuildSummary returns a BuildSummary that prints each line with printf
// (which adds the newline).
func NewBuildSummary(printf func(format string, args ...any)) *BuildSummary {
	return &BuildSummary{printf: printf, now: time.Now}
}

var _ BuildReporter = (*BuildSummary)(nil)

// Write keeps the last lines of output, for a failure; it prints nothing.
func (s *BuildSummary) Write(b []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.partial = append(s.partial, b...)
	for {
		i := bytes.IndexByte(s.partial, '\n')
		if i < 0 {
			return len(b), nil
		}
		s.tail = append(s.tail, string(s.partial[:i]))
		if len(s.tail) > summaryTail {
			s.tail = s.tail[len(s.tail)-summaryTail:]
		}
		s.partial = s.partial[i+1:]
	}
}

// BuildWait implements BuildReporter.
func (s *BuildSummary) BuildWait(lockPath string) {
	s.printf("waiting for another process building a node image (lock %s)", lockPath)
}

// BuildStart implements BuildReporter.
func (s *BuildSummary) BuildStart(info BuildInfo) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.start, s.tag, s.logPath, s.tail, s.phase = s.now(), info.Tag, info.LogPath, nil, ""
	s.printf("%s", info.Title)
	s.printf("full log: %s", info.LogPath)
}

// BuildPhase implements BuildReporter.
func (s *BuildSummary) BuildPhase(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	s.endPhase(now, "done")
	s.phase, s.phaseStart = name, now
	s.printf("%s %s: started", now.Format("15:04:05"), name)
}

// BuildEnd implements BuildReporter.
func (s *BuildSummary) BuildEnd(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	total := roundDuration(now.Sub(s.start))
	if err == nil {
		s.endPhase(now, "done")
		s.printf("%s: done in %s", s.tag, total)
		return
	}
	s.endPhase(now, "failed")
	s.printf("%s: failed after %s; last lines of %s:", s.tag, total, s.logPath)
	for _, l := range s.tail {
		s.printf("  | %s", l)
	}
}

// endPhase prints how the current phase ended, if there is one. Called
// with mu held.
func (s *BuildSummary) endPhase(now time.Time, how string) {
	if s.phase == "" {
		return
	}
	s.printf("%s %s: %s (%s)", now.Format("15:04:05"), s.phase, how, roundDuration(now.Sub(s.phaseStart)))
	s.phase = ""
}

// roundDuration rounds d for people: tenths of a second under a minute,
// whole seconds above.
func roundDuration(d time.Duration) time.Duration {
	if d < time.Minute {
		return d.Round(100 * time.Millisecond)
	}
	return d.Round(time.Second)
}
