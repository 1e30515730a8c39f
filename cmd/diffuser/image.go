package main

import (
	"bytes"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"sync"
	"time"

	"diffuser/cloud"
	"diffuser/cloud/docker"
	"diffuser/lang"
	"diffuser/workspace"

	"github.com/spf13/cobra"
	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
	"github.com/zclconf/go-cty/cty"
	"golang.org/x/term"
)

func (a *app) imageBuildCmd() *cobra.Command {
	var force bool
	c := &cobra.Command{
		Use:   "build",
		Short: "Build the docker provider's node image now (otherwise it is built on first use)",
		Long: `build makes the node image local clusters run: Debian with systemd and sshd, from a
Dockerfile when the base image is available, else with debootstrap from the machine's
Debian mirror and docker import. The image is tagged by a digest of its inputs, so it is
built once and reused. Settings come from the site file's provider "docker" block.
When it (or a hosts "GROUP" block in it) sets packages, the image derived from the node
image with those packages installed is built too, once per package list.
A build shows its phases (a progress bar on a terminal, a few lines elsewhere) and keeps
the programs' full output in <data-dir>/node-image.log.`,
		Example: "  diffuser image build\n  diffuser image build -site diffuser.hcl -force",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var pb *lang.ProviderBlock
			sitePath := a.flags.site
			if sitePath != "" {
				site, err := workspace.LoadSite(sitePath)
				if err != nil {
					return err
				}
				pb = site.Providers["docker"]
			}
			// The provider-wide settings, then each host group's: a group
			// block may name other packages (a derived image) or another base.
			settings, diags := pb.Settings(docker.Factory{}.Spec(), "")
			if diags.HasErrors() {
				return fmt.Errorf("docker settings: %s", diags.Error())
			}
			all := []cty.Value{settings}
			if pb != nil {
				for _, g := range slices.Sorted(maps.Keys(pb.Groups)) {
					v, diags := pb.Settings(docker.Factory{}.Spec(), g)
					if diags.HasErrors() {
						return fmt.Errorf("docker settings of hosts %q: %s", g, diags.Error())
					}
					all = append(all, v)
				}
			}
			p, err := docker.New(cmd.Context(), settings, cloud.Env{WorkDir: a.flags.dataDir, Log: func(f string, args ...any) {
				fmt.Fprintf(a.stderr, f+"\n", args...)
			}})
			if err != nil {
				return err
			}
			tags, err := p.EnsureImages(cmd.Context(), all, newImageProgress(a.stdout), force)
			if err != nil {
				return err
			}
			for _, tag := range tags {
				fmt.Fprintf(a.stdout, "Node image ready: %s\n", tag)
			}
			return nil
		},
	}
	c.Flags().StringVar(&a.flags.site, "site", "", "site file with a provider \"docker\" block")
	c.Flags().BoolVar(&force, "force", false, "build even when an image with the same inputs exists")
	return c
}

// newImageProgress is what a node image build reports to: a bar on a
// terminal, else docker's summary lines. Either way the build's hundreds of
// lines of output stay in its log file.
func newImageProgress(w io.Writer) interface {
	io.Writer
	docker.BuildReporter
} {
	printf := func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) && os.Getenv("TERM") != "dumb" {
		width, _, _ := term.GetSize(int(f.Fd()))
		return &imageBar{out: w, width: width, sum: docker.NewBuildSummary(printf)}
	}
	return docker.NewBuildSummary(printf)
}

// imageBar shows a node image build on a terminal: the title and the log's
// path, then one bar that fills phase by phase and names the phase, its
// elapsed time and the latest output line; each finished phase is printed
// above it with its duration. sum keeps the output's last lines and prints
// the title and the end (the total, or on failure the tail).
//
// The build calls BuildStart, BuildPhase and BuildEnd from one goroutine,
// which alone touches p and bar; Write comes from the programs' output
// readers. mu guards what the bar's decorators read, and is never held
// while mpb is called (mpb calls the decorators).
type imageBar struct {
	out   io.Writer
	width int
	sum   *docker.BuildSummary
	p     *mpb.Progress
	bar   *mpb.Bar

	mu      sync.Mutex
	phases  int
	done    int // phases finished
	phase   string
	since   time.Time
	last    string // latest output line
	partial []byte
}

// Write notes the latest output line for the bar and hands the output to
// sum for its tail.
func (b *imageBar) Write(p []byte) (int, error) {
	b.mu.Lock()
	b.partial = append(b.partial, p...)
	for {
		i := bytes.IndexByte(b.partial, '\n')
		if i < 0 {
			break
		}
		if line := string(b.partial[:i]); line != "" {
			b.last = line
		}
		b.partial = b.partial[i+1:]
	}
	b.mu.Unlock()
	return b.sum.Write(p)
}

// BuildWait implements docker.BuildReporter.
func (b *imageBar) BuildWait(lockPath string) { b.sum.BuildWait(lockPath) }

// BuildStart implements docker.BuildReporter.
func (b *imageBar) BuildStart(info docker.BuildInfo) {
	b.sum.BuildStart(info)
	b.mu.Lock()
	b.phases, b.since = max(len(info.Phases), 1), time.Now()
	b.done, b.phase, b.last = 0, "", "" // image build may build several images
	b.mu.Unlock()
	width := b.width
	if width <= 0 {
		width = 100
	}
	b.p = mpb.New(mpb.WithOutput(b.out), mpb.WithWidth(width), mpb.WithRefreshRate(150*time.Millisecond), mpb.WithAutoRefresh())
	b.bar = b.p.New(int64(b.phases), mpb.BarStyle().Lbound("[").Filler("=").Tip(">").Padding("-").Rbound("]"),
		mpb.BarWidth(20),
		mpb.PrependDecorators(decor.Name("node image ")),
		mpb.AppendDecorators(decor.Any(func(decor.Statistics) string { return b.status(width - 33) })))
}

// status is the text after the bar, at most width columns: phase n/N, its
// name and elapsed time, and as much of the latest output line as fits.
func (b *imageBar) status(width int) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.phase == "" {
		return fmt.Sprintf("%d/%d done", b.done, b.phases)
	}
	s := fmt.Sprintf("%d/%d %s %s", b.done+1, b.phases, b.phase, time.Since(b.since).Round(time.Second))
	if rest := width - len(s) - 2; rest > 10 && b.last != "" {
		line := []rune(b.last)
		if len(line) > rest {
			line = append(line[:rest-1], '…')
		}
		s += "  " + string(line)
	}
	return s
}

// BuildPhase implements docker.BuildReporter.
func (b *imageBar) BuildPhase(name string) {
	b.finishPhase("✓", "")
	b.mu.Lock()
	b.phase, b.since, b.last = name, time.Now(), ""
	b.mu.Unlock()
}

// finishPhase prints the current phase above the bar with its duration and
// advances the bar past it.
func (b *imageBar) finishPhase(mark, how string) {
	b.mu.Lock()
	name, took := b.phase, time.Since(b.since)
	if name != "" && how == "" {
		b.done++
	}
	done := b.done
	b.phase = ""
	b.mu.Unlock()
	if name == "" {
		return
	}
	if took < time.Minute {
		took = took.Round(100 * time.Millisecond)
	} else {
		took = took.Round(time.Second)
	}
	fmt.Fprintf(b.p, "%s %s%s (%s)\n", mark, name, how, took)
	b.bar.SetCurrent(int64(done))
}

// BuildEnd implements docker.BuildReporter: the bar ends (complete, or
// aborted where the build failed), then sum prints the outcome below it.
func (b *imageBar) BuildEnd(err error) {
	if b.p != nil {
		if err != nil {
			b.finishPhase("✗", " failed")
			b.bar.Abort(false)
		} else {
			b.finishPhase("✓", "")
			b.bar.SetTotal(-1, true)
		}
		b.p.Wait()
	}
	b.sum.BuildEnd(err)
}
