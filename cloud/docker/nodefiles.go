package docker

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// overlayFile is one file the node image gets on top of its packages.
type overlayFile struct {
	Path    string // relative to /, slash-separated
	Content []byte
	Mode    fs.FileMode
}

// nodeOverlay returns the embedded nodeimage/rootfs files plus the apt
// sources generated from s. Files starting with "#!" are executable.
func nodeOverlay(s Settings) ([]overlayFile, error) {
	var out []overlayFile
	err := fs.WalkDir(nodeFiles, "nodeimage/rootfs", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := nodeFiles.ReadFile(path)
		if err != nil {
			return err
		}
		mode := fs.FileMode(0o644)
		if bytes.HasPrefix(b, []byte("#!")) {
			mode = 0o755
		}
		out = append(out, overlayFile{Path: strings.TrimPrefix(path, "nodeimage/rootfs/"), Content: b, Mode: mode})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read embedded node files: %w", err)
	}
	out = append(out, overlayFile{Path: "etc/apt/sources.list.d/debian.sources", Content: []byte(aptSources(s)), Mode: 0o644})
	return out, nil
}

// aptSources is the deb822 sources file of the node image: the same mirror
// the image was built from, so package steps install from it too.
func aptSources(s Settings) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Written by diffuser's node image build.\n")
	fmt.Fprintf(&b, "Types: deb\nURIs: %s\nSuites: %s %s-updates\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n",
		s.Mirror, s.Suite, s.Suite)
	if s.SecurityMirror != "none" {
		fmt.Fprintf(&b, "\nTypes: deb\nURIs: %s\nSuites: %s-security\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n",
			s.SecurityMirror, s.Suite)
	}
	return b.String()
}

// setupScript returns nodeimage/setup.sh, run inside the new root filesystem.
func setupScript() ([]byte, error) {
	b, err := nodeFiles.ReadFile("nodeimage/setup.sh")
	if err != nil {
		return nil, fmt.Errorf("read embedded setup.sh: %w", err)
	}
	return b, nil
}

// writeOverlay writes files under root, creating parent directories 0755.
func writeOverlay(root string, files []overlayFile) error {
	for _, f := range files {
		dst := filepath.Join(root, filepath.FromSlash(f.Path))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return fmt.Errorf("write node file %s: %w", f.Path, err)
		}
		if err := os.WriteFile(dst, f.Content, f.Mode); err != nil {
			return fmt.Errorf("write node file %s: %w", f.Path, err)
		}
		if err := os.Chmod(dst, f.Mode); err != nil {
			return fmt.Errorf("write node file %s: %w", f.Path, err)
		}
	}
	return nil
}
