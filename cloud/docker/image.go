package docker

import (
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"strings"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/client"
)

// nodeFiles holds what every node image gets on top of the Debian packages:
// nodeimage/rootfs/ is copied to / and nodeimage/setup.sh is run inside.
//
//go:embed nodeimage
var nodeFiles embed.FS

// ImageRepo is the repository of built node images; the tag is
// "<suite>-<first 12 hex digits of the build inputs' SHA-256>".
const ImageRepo = "diffuser-node"

// imageRecipeVersion changes whenever the build logic changes in a way the
// hashed inputs do not capture.
const imageRecipeVersion = "1"

// Labels on node images.
const (
	labelImageInputs = "diffuser.node-image.inputs" // full SHA-256 of the build inputs
	labelImageBuild  = "diffuser.node-image.build"  // debootstrap or dockerfile
)

// NodePackages returns the Debian packages of the node image.
func NodePackages() []string {
	return []string{
		"systemd", "systemd-sysv", "dbus", "openssh-server", "sudo", "iproute2", "iputils-ping",
		"procps", "util-linux", "xfsprogs", "e2fsprogs", "fuse3", "ca-certificates", "curl",
		"less", "netbase",
	}
}

// ImagePlan says which node image Settings lead to and how it is made.
type ImagePlan struct {
	Tag    string // image reference containers are created from
	Method string // BuildDebootstrap, BuildDockerfile, or "" for a given image (settings.image)
	Inputs string // hex SHA-256 of everything the build depends on ("" for a given image)
}

// PlanImage resolves Settings to an ImagePlan without building anything.
// With build = auto it asks the engine whether BaseImage is present locally.
func (p *Provider) PlanImage(ctx context.Context, s Settings) (ImagePlan, error) {
	if s.Image != "" {
		return ImagePlan{Tag: s.Image}, nil
	}
	method := s.Build
	if method == BuildAuto {
		method = BuildDebootstrap
		if _, err := p.cli.ImageInspect(ctx, s.BaseImage); err == nil {
			method = BuildDockerfile
		} else if !cerrdefs.IsNotFound(err) {
			return ImagePlan{}, fmt.Errorf("inspect base image %s: %w", s.BaseImage, err)
		}
	}
	inputs, err := imageInputs(s, method)
	if err != nil {
		return ImagePlan{}, err
	}
	return ImagePlan{Tag: ImageRepo + ":" + s.Suite + "-" + inputs[:12], Method: method, Inputs: inputs}, nil
}

// imageInputs hashes everything a build of method depends on: the method,
// suite, mirrors, package list, the embedded node files and, for Dockerfile
// builds, the base image name.
func imageInputs(s Settings, method string) (string, error) {
	h := sha256.New()
	field := func(k, v string) { fmt.Fprintf(h, "%s=%q\n", k, v) }
	field("recipe", imageRecipeVersion)
	field("method", method)
	field("suite", s.Suite)
	field("mirror", s.Mirror)
	field("security_mirror", s.SecurityMirror)
	field("packages", strings.Join(NodePackages(), ","))
	if method == BuildDockerfile {
		field("base_image", s.BaseImage)
	}
	err := fs.WalkDir(nodeFiles, "nodeimage", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := nodeFiles.ReadFile(path)
		if err != nil {
			return err
		}
		field("file:"+path, string(b))
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("hash node image files: %w", err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// EnsureImage returns the node image of the provider's settings, building it
// first when it is not in the engine yet (a few minutes the first time;
// progress lines go to progress, which may be nil). Safe for concurrent use:
// one build per image, the others wait for it.
func (p *Provider) EnsureImage(ctx context.Context, progress io.Writer) (string, error) {
	return p.ensureImage(ctx, p.settings, progress, false)
}

// BuildImage builds the node image of the provider's settings even if an
// image with its tag exists, and returns the tag.
func (p *Provider) BuildImage(ctx context.Context, progress io.Writer) (string, error) {
	return p.ensureImage(ctx, p.settings, progress, true)
}

// ensureImage returns the image hosts with settings s run: the node image
// (ensureBase), or the one derived from it with s.Packages installed
// (ensureBaked). force rebuilds both.
func (p *Provider) ensureImage(ctx context.Context, s Settings, progress io.Writer, force bool) (string, error) {
	if progress == nil {
		progress = io.Discard
	}
	base, err := p.ensureBase(ctx, s, progress, force)
	if err != nil || len(s.Packages) == 0 {
		return base, err
	}
	return p.ensureBaked(ctx, s, base, progress, force)
}

// imageKey is the settings that select the node image; once it is known
// to exist, Launch asks the engine nothing more about it.
func imageKey(s Settings) string {
	return strings.Join([]string{s.Image, s.Build, s.BaseImage, s.Suite, s.Mirror, s.SecurityMirror}, "\x00")
}

// lockUnlessBuilt returns a nil unlock when the image tag exists (and
// not force). Otherwise it takes the machine-wide node image build lock
// and looks again: other diffuser processes on this machine may be
// building the same image (parallel applies, tests), so one builds and the
// others wait for the lock and then find the image. A non-nil unlock means
// the caller holds the lock and builds.
func (p *Provider) lockUnlessBuilt(ctx context.Context, tag string, progress io.Writer, force bool) (func(), error) {
	exists := func() (bool, error) {
		_, err := p.cli.ImageInspect(ctx, tag)
		if err != nil && !cerrdefs.IsNotFound(err) {
			return false, fmt.Errorf("inspect node image %s: %w", tag, err)
		}
		return err == nil, nil
	}
	if ok, err := exists(); err != nil || (ok && !force) {
		return nil, err
	}
	unlock, err := lockFile(ctx, "diffuser-node-image.lock", func(path string) {
		if rep, ok := progress.(BuildReporter); ok {
			rep.BuildWait(path)
			return
		}
		fmt.Fprintf(progress, "waiting for another process building a node image (%s)\n", path)
	})
	if err != nil {
		return nil, err
	}
	if ok, err := exists(); err != nil || (ok && !force) {
		unlock()
		return nil, err
	}
	return unlock, nil
}

// ensureBase returns the node image of s, building it when the engine
// lacks it or force.
func (p *Provider) ensureBase(ctx context.Context, s Settings, progress io.Writer, force bool) (string, error) {
	key := imageKey(s)
	p.imageMu.Lock()
	defer p.imageMu.Unlock()
	if tag, ok := p.imagesReady[key]; ok && !force {
		return tag, nil
	}
	plan, err := p.PlanImage(ctx, s)
	if err != nil {
		return "", err
	}
	if plan.Method == "" {
		if err := p.ensureGivenImage(ctx, plan.Tag, progress); err != nil {
			return "", err
		}
		p.imagesReady[key] = plan.Tag
		return plan.Tag, nil
	}
	unlock, err := p.lockUnlessBuilt(ctx, plan.Tag, progress, force)
	if err != nil {
		return "", err
	}
	if unlock == nil {
		p.imagesReady[key] = plan.Tag
		return plan.Tag, nil
	}
	defer unlock()
	start := time.Now()
	info := BuildInfo{Tag: plan.Tag,
		Title: fmt.Sprintf("building node image %s with %s from %s (%s); this takes a few minutes the first time",
			plan.Tag, plan.Method, cmpOr(plan.Method == BuildDockerfile, s.BaseImage, s.Mirror), s.Suite)}
	var deboot string
	switch plan.Method {
	case BuildDebootstrap:
		if os.Geteuid() != 0 {
			return "", errors.New("debootstrap needs root; run as root or build the image where a base image is available (build = \"dockerfile\")")
		}
		deboot, _ = findDebootstrap()
		if deboot == "" {
			info.Phases = append(info.Phases, PhaseInstallDebootstrap)
		}
		info.Phases = append(info.Phases, PhaseDebootstrap, PhaseNodeSetup, PhaseImport)
	case BuildDockerfile:
		info.Phases = []string{PhaseDockerBuild}
	}
	run, err := startBuild(p.workDir, info, progress)
	if err != nil {
		return "", err
	}
	switch plan.Method {
	case BuildDebootstrap:
		err = p.buildDebootstrap(ctx, s, plan, deboot, run)
	case BuildDockerfile:
		err = p.buildDockerfile(ctx, s, plan, run)
	}
	if err != nil {
		err = fmt.Errorf("build node image %s: %w", plan.Tag, err)
	} else if _, ierr := p.cli.ImageInspect(ctx, plan.Tag); ierr != nil {
		err = fmt.Errorf("node image %s missing after build: %w", plan.Tag, ierr)
	}
	if run.rep == nil && err == nil {
		fmt.Fprintf(progress, "built node image %s in %s\n", plan.Tag, time.Since(start).Round(time.Second))
	}
	if err := run.end(err); err != nil {
		return "", err
	}
	p.imagesReady[key] = plan.Tag
	return plan.Tag, nil
}

// ensureGivenImage checks that the image named by settings.image exists,
// pulling it if it does not.
func (p *Provider) ensureGivenImage(ctx context.Context, ref string, progress io.Writer) error {
	_, err := p.cli.ImageInspect(ctx, ref)
	if err == nil {
		return nil
	}
	if !cerrdefs.IsNotFound(err) {
		return fmt.Errorf("inspect image %s: %w", ref, err)
	}
	run, err := startBuild(p.workDir, BuildInfo{Tag: ref, Title: "pulling image " + ref, Phases: []string{PhasePull}}, progress)
	if err != nil {
		return err
	}
	run.phase(PhasePull)
	rc, err := p.cli.ImagePull(ctx, ref, client.ImagePullOptions{})
	if err == nil {
		err = readJSONStream(rc, run.w)
		rc.Close()
	}
	if err != nil {
		err = fmt.Errorf("image %s (setting image) is not present and could not be pulled: %w", ref, err)
	}
	return run.end(err)
}

// cmpOr returns a if cond, else b.
func cmpOr(cond bool, a, b string) string {
	if cond {
		return a
	}
	return b
}

// jsonMessage is one line of the engine's progress streams (import, build, pull).
type jsonMessage struct {
	Stream      string `json:"stream"`
	Status      string `json:"status"`
	Progress    string `json:"progress"`
	ID          string `json:"id"`
	Error       string `json:"error"`
	ErrorDetail *struct {
		Message string `json:"message"`
	} `json:"errorDetail"`
}

// readJSONStream copies an engine progress stream to w as plain lines and
// returns the first error message it carries.
func readJSONStream(r io.Reader, w io.Writer) error {
	dec := json.NewDecoder(r)
	for {
		var m jsonMessage
		err := dec.Decode(&m)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read engine progress: %w", err)
		}
		if m.ErrorDetail != nil && m.ErrorDetail.Message != "" {
			return errors.New(m.ErrorDetail.Message)
		}
		if m.Error != "" {
			return errors.New(m.Error)
		}
		switch {
		case m.Stream != "":
			io.WriteString(w, m.Stream)
			if !strings.HasSuffix(m.Stream, "\n") {
				io.WriteString(w, "\n")
			}
		case m.Status != "" && m.Progress == "":
			fmt.Fprintln(w, strings.TrimSpace(strings.Join(slices.DeleteFunc([]string{m.ID, m.Status}, func(s string) bool { return s == "" }), ": ")))
		}
	}
}
