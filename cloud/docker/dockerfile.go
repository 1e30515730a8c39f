package docker

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/moby/moby/client"
)

// dockerfile is the node image's Dockerfile: the same packages, files and
// setup.sh as the debootstrap build, on top of a Debian base image.
func dockerfile(s Settings) string {
	return fmt.Sprintf(`FROM %s
ENV DEBIAN_FRONTEND=noninteractive
COPY rootfs/ /
RUN rm -f /etc/apt/sources.list && apt-get update \
 && apt-get install -y --no-install-recommends %s \
 && apt-get clean
COPY setup.sh /diffuser-setup.sh
RUN sh /diffuser-setup.sh && rm -f /diffuser-setup.sh
ENV container=docker
STOPSIGNAL SIGRTMIN+3
CMD ["/sbin/init"]
`, s.BaseImage, strings.Join(NodePackages(), " "))
}

// buildDockerfile builds the node image with the engine's builder from
// s.BaseImage (pulled by the engine if it is not present). The build
// containers get s.ExtraHosts so the mirror resolves as it does for hosts.
func (p *Provider) buildDockerfile(ctx context.Context, s Settings, plan ImagePlan, run *buildRun) error {
	run.phase(PhaseDockerBuild)
	w := run.w
	buildCtx, err := dockerfileContext(s)
	if err != nil {
		return err
	}
	res, err := p.cli.ImageBuild(ctx, bytes.NewReader(buildCtx), client.ImageBuildOptions{
		Tags:        []string{plan.Tag},
		Remove:      true,
		ForceRemove: true,
		ExtraHosts:  s.ExtraHosts,
		Labels:      map[string]string{labelImageInputs: plan.Inputs, labelImageBuild: plan.Method},
	})
	if err != nil {
		return fmt.Errorf("docker build: %w", err)
	}
	defer res.Body.Close()
	if err := readJSONStream(res.Body, w); err != nil {
		return fmt.Errorf("docker build: %w", err)
	}
	return nil
}

// dockerfileContext is the build context tar: Dockerfile, setup.sh and
// rootfs/ with the node files.
func dockerfileContext(s Settings) ([]byte, error) {
	files, err := nodeOverlay(s)
	if err != nil {
		return nil, err
	}
	script, err := setupScript()
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	now := time.Unix(0, 0)
	dirs := map[string]bool{}
	var entries []tarEntry
	entries = append(entries, tarEntry{"Dockerfile", 0o644, []byte(dockerfile(s))}, tarEntry{"setup.sh", 0o755, script})
	for _, f := range files {
		entries = append(entries, tarEntry{"rootfs/" + f.Path, int64(f.Mode), f.Content})
	}
	for _, e := range entries {
		var parents []string
		for d := path.Dir(e.name); d != "." && !dirs[d]; d = path.Dir(d) {
			dirs[d] = true
			parents = append([]string{d}, parents...)
		}
		for _, d := range parents {
			if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: d + "/", Mode: 0o755, ModTime: now}); err != nil {
				return nil, fmt.Errorf("build context: %w", err)
			}
		}
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: e.name, Mode: e.mode, Size: int64(len(e.body)), ModTime: now}); err != nil {
			return nil, fmt.Errorf("build context: %w", err)
		}
		if _, err := tw.Write(e.body); err != nil {
			return nil, fmt.Errorf("build context: %w", err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("build context: %w", err)
	}
	return buf.Bytes(), nil
}

type tarEntry struct {
	name string
	mode int64
	body []byte
}
