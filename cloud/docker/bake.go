package docker

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/moby/moby/client"
	"github.com/zclconf/go-cty/cty"

	"diffuser/cloud"
)

// The packages setting: Debian packages baked into a node image derived
// from the built one (a "golden image"), so that a recipe's package steps
// find them installed and do no apt work. The derived image is tagged by
// a digest of the base image's ID, the sorted package list and the apt
// settings, built once (under the node image lock, so concurrent applies
// build it once) and reused.

// bakeScript installs the packages inside the derived image's build.
//
//go:embed bake/bake.sh
var bakeScript []byte

// bakeRecipeVersion changes whenever the derived build changes in a way
// bakeInputs does not capture (bake.sh is hashed).
const bakeRecipeVersion = "1"

// labelImagePackages on a derived image: its packages, comma-separated.
const labelImagePackages = "diffuser.node-image.packages"

// BuildPackages is the labelImageBuild value of a derived image.
const BuildPackages = "packages"

// PhasePackages is the derived build's one phase.
const PhasePackages = "install packages"

// maxPackageName bounds a package name in the packages setting (Debian
// sets no limit; the longest in bookworm is under 70 characters).
const maxPackageName = 100

// checkPackageName accepts a Debian package name as policy 5.6.1 defines
// it: at least two characters, lower case letters, digits, '+', '-' and
// '.', starting with a letter or digit. Nothing else can reach the build's
// command line.
func checkPackageName(n string) error {
	switch {
	case n == "":
		return fmt.Errorf("an empty package name")
	case len(n) > maxPackageName:
		return fmt.Errorf("package name %.20q... is longer than %d characters", n, maxPackageName)
	case len(n) < 2:
		return fmt.Errorf("package name %q: Debian package names have at least two characters", n)
	}
	for i := 0; i < len(n); i++ {
		c := n[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case i > 0 && (c == '+' || c == '-' || c == '.'):
		default:
			return fmt.Errorf("package name %q: want a Debian package name (lower case letters, digits, '+', '-' and '.', starting with a letter or digit)", n)
		}
	}
	return nil
}

// bakePackages is the sorted package list without duplicates.
func bakePackages(names []string) []string {
	out := slices.Clone(names)
	slices.Sort(out)
	return slices.Compact(out)
}

// bakeInputs hashes what a derived image depends on: the base image's ID,
// the packages (order and duplicates do not matter), the apt settings the
// packages come from, and the build script.
func bakeInputs(baseID string, s Settings) string {
	h := sha256.New()
	field := func(k, v string) { fmt.Fprintf(h, "%s=%q\n", k, v) }
	field("recipe", bakeRecipeVersion)
	field("base_id", baseID)
	field("packages", strings.Join(bakePackages(s.Packages), ","))
	field("suite", s.Suite)
	field("mirror", s.Mirror)
	field("security_mirror", s.SecurityMirror)
	field("script", string(bakeScript))
	return hex.EncodeToString(h.Sum(nil))
}

// bakedTag is the derived image's reference: diffuser-node:<suite>-pkgs-<12 hex>.
func bakedTag(suite, inputs string) string {
	return ImageRepo + ":" + suite + "-pkgs-" + inputs[:12]
}

// bakeDockerfile is the derived image's Dockerfile: FROM the base image's
// ID, bake.sh run with the cache URL ("-" for none) and the package names
// in exec form, so no shell reads them.
func bakeDockerfile(baseID, proxy string, pkgs []string) (string, error) {
	for _, n := range pkgs {
		if err := checkPackageName(n); err != nil {
			return "", err
		}
	}
	if proxy != "" {
		if _, err := cloud.CheckAptProxy(proxy); err != nil {
			return "", err
		}
	}
	argv := append([]string{"/bin/sh", "/diffuser-bake.sh", cmpOr(proxy != "", proxy, "-"), "--"}, pkgs...)
	run, err := json.Marshal(argv)
	if err != nil {
		return "", fmt.Errorf("derived image Dockerfile: %w", err)
	}
	return fmt.Sprintf("FROM %s\nCOPY bake.sh /diffuser-bake.sh\nRUN %s\n", baseID, run), nil
}

// bakeContext is the derived build's context: the Dockerfile and bake.sh.
func bakeContext(dockerfile string) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	now := time.Unix(0, 0)
	for _, e := range []tarEntry{{"Dockerfile", 0o644, []byte(dockerfile)}, {"bake.sh", 0o755, bakeScript}} {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: e.name, Mode: e.mode, Size: int64(len(e.body)), ModTime: now}); err != nil {
			return nil, fmt.Errorf("derived build context: %w", err)
		}
		if _, err := tw.Write(e.body); err != nil {
			return nil, fmt.Errorf("derived build context: %w", err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("derived build context: %w", err)
	}
	return buf.Bytes(), nil
}

// bakeProxy is the package cache the derived build's apt goes through: the
// build runs on the host's network, so "controller" is apt-cacher-ng on
// 127.0.0.1 when it answers; a URL is used as given (bake.sh falls back to
// the mirror when it fails); "" for none.
func bakeProxy(ctx context.Context, s Settings) string {
	switch s.PackageCache {
	case cloud.PackageCacheOff, "":
		return ""
	case cloud.PackageCacheController:
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(cloud.AptCacherPort))
		d := net.Dialer{Timeout: 2 * time.Second}
		c, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			return ""
		}
		c.Close()
		return cloud.AptProxy{Host: "127.0.0.1", Port: cloud.AptCacherPort}.URL()
	default:
		p, err := cloud.CheckAptProxy(s.PackageCache)
		if err != nil {
			return ""
		}
		return p.URL()
	}
}

// bakeKey is the imagesReady key of a derived image: the base image's key
// and the packages.
func bakeKey(baseKey string, s Settings) string {
	return baseKey + "\x00packages=" + strings.Join(bakePackages(s.Packages), ",")
}

// ensureBaked returns the image derived from base (a node image reference)
// with s.Packages installed, building it when the engine lacks it or force.
func (p *Provider) ensureBaked(ctx context.Context, s Settings, base string, progress io.Writer, force bool) (string, error) {
	key := bakeKey(imageKey(s), s)
	p.imageMu.Lock()
	defer p.imageMu.Unlock()
	if tag, ok := p.imagesReady[key]; ok && !force {
		return tag, nil
	}
	img, err := p.cli.ImageInspect(ctx, base)
	if err != nil {
		return "", fmt.Errorf("inspect node image %s: %w", base, err)
	}
	inputs := bakeInputs(img.ID, s)
	tag := bakedTag(s.Suite, inputs)
	unlock, err := p.lockUnlessBuilt(ctx, tag, progress, force)
	if err != nil {
		return "", err
	}
	if unlock == nil {
		p.imagesReady[key] = tag
		return tag, nil
	}
	defer unlock()
	pkgs := bakePackages(s.Packages)
	proxy := bakeProxy(ctx, s)
	start := time.Now()
	run, err := startBuild(p.workDir, BuildInfo{Tag: tag, Phases: []string{PhasePackages},
		Title: fmt.Sprintf("building node image %s: %s with %s installed (through %s)", tag, base, strings.Join(pkgs, ", "),
			cmpOr(proxy != "", "the package cache "+proxy, "the mirror"))}, progress)
	if err != nil {
		return "", err
	}
	run.phase(PhasePackages)
	err = p.buildBaked(ctx, s, img.ID, tag, inputs, proxy, pkgs, run.w)
	if err != nil {
		err = fmt.Errorf("build node image %s: %w", tag, err)
	} else if _, ierr := p.cli.ImageInspect(ctx, tag); ierr != nil {
		err = fmt.Errorf("node image %s missing after build: %w", tag, ierr)
	}
	if run.rep == nil && err == nil {
		fmt.Fprintf(progress, "built node image %s in %s\n", tag, time.Since(start).Round(time.Second))
	}
	if err := run.end(err); err != nil {
		return "", err
	}
	p.imagesReady[key] = tag
	return tag, nil
}

// buildBaked runs the derived image's docker build on the host's network
// (so the controller's package cache is at 127.0.0.1), with the settings'
// extra_hosts so the mirror resolves as for hosts.
func (p *Provider) buildBaked(ctx context.Context, s Settings, baseID, tag, inputs, proxy string, pkgs []string, w io.Writer) error {
	df, err := bakeDockerfile(baseID, proxy, pkgs)
	if err != nil {
		return err
	}
	buildCtx, err := bakeContext(df)
	if err != nil {
		return err
	}
	res, err := p.cli.ImageBuild(ctx, bytes.NewReader(buildCtx), bakeBuildOptions(s, tag, inputs, pkgs))
	if err != nil {
		return fmt.Errorf("docker build: %w", err)
	}
	defer res.Body.Close()
	if err := readJSONStream(res.Body, w); err != nil {
		return fmt.Errorf("docker build: %w", err)
	}
	return nil
}

// bakeBuildOptions are the engine's options for a derived build.
func bakeBuildOptions(s Settings, tag, inputs string, pkgs []string) client.ImageBuildOptions {
	return client.ImageBuildOptions{
		Tags:        []string{tag},
		Remove:      true,
		ForceRemove: true,
		NetworkMode: "host",
		ExtraHosts:  s.ExtraHosts,
		Labels: map[string]string{labelImageInputs: inputs, labelImageBuild: BuildPackages,
			labelImagePackages: strings.Join(pkgs, ",")},
	}
}

// EnsureImages ensures the images hosts run with each of settings (the
// provider-wide settings and each host group's, overrides merged in, as
// lang.ProviderBlock.Settings makes them): node images and derived ones,
// each once. force rebuilds each once. It returns the distinct tags in
// order.
func (p *Provider) EnsureImages(ctx context.Context, settings []cty.Value, progress io.Writer, force bool) ([]string, error) {
	if progress == nil {
		progress = io.Discard
	}
	forced := map[string]bool{}
	var tags []string
	for _, v := range settings {
		s, err := DecodeSettings(v, p.apt, p.workDir)
		if err != nil {
			return tags, err
		}
		baseKey := imageKey(s)
		tag, err := p.ensureBase(ctx, s, progress, force && !forced[baseKey])
		if err != nil {
			return tags, err
		}
		forced[baseKey] = true
		if len(s.Packages) > 0 {
			key := bakeKey(baseKey, s)
			if tag, err = p.ensureBaked(ctx, s, tag, progress, force && !forced[key]); err != nil {
				return tags, err
			}
			forced[key] = true
		}
		if !slices.Contains(tags, tag) {
			tags = append(tags, tag)
		}
	}
	return tags, nil
}
