package docker

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// HostApt is the Debian mirror and suite this machine's apt uses; they are
// the defaults of the mirror, security_mirror and suite settings.
type HostApt struct {
	Mirror         string // e.g. http://deb.debian.org/debian
	SecurityMirror string // e.g. http://deb.debian.org/debian-security
	Suite          string // e.g. bookworm
}

// Fallbacks when the machine has no readable Debian sources.
const (
	defaultMirror         = "http://deb.debian.org/debian"
	defaultSecurityMirror = "http://deb.debian.org/debian-security"
	defaultSuite          = "bookworm"
)

// ReadHostApt reads the apt sources under root ("/" for this machine):
// etc/apt/sources.list.d/*.sources (deb822), etc/apt/sources.list and
// etc/apt/sources.list.d/*.list (one-line format). The first `deb` entry
// whose suite has no -security/-updates/-backports suffix gives Mirror and
// Suite; the first -security entry gives SecurityMirror. Whatever is not
// found keeps the deb.debian.org/bookworm default.
func ReadHostApt(root string) (HostApt, error) {
	var entries []aptEntry
	dir := filepath.Join(root, "etc/apt/sources.list.d")
	deb822, _ := filepath.Glob(filepath.Join(dir, "*.sources"))
	lists, _ := filepath.Glob(filepath.Join(dir, "*.list"))
	slices.Sort(deb822)
	slices.Sort(lists)
	lists = append([]string{filepath.Join(root, "etc/apt/sources.list")}, lists...)
	for _, f := range deb822 {
		b, err := os.ReadFile(f)
		if err != nil {
			return HostApt{}, fmt.Errorf("read apt sources: %w", err)
		}
		entries = append(entries, parseDeb822(string(b))...)
	}
	for _, f := range lists {
		b, err := os.ReadFile(f)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return HostApt{}, fmt.Errorf("read apt sources: %w", err)
		}
		entries = append(entries, parseOneLine(string(b))...)
	}
	return pickHostApt(entries), nil
}

// aptEntry is one (URI, suite) pair of a `deb` source.
type aptEntry struct{ uri, suite string }

func pickHostApt(entries []aptEntry) HostApt {
	h := HostApt{}
	for _, e := range entries {
		base, kind, _ := strings.Cut(e.suite, "-")
		switch {
		case kind == "" && h.Mirror == "":
			h.Mirror, h.Suite = e.uri, base
		case kind == "security" && h.SecurityMirror == "":
			h.SecurityMirror = e.uri
		}
	}
	if h.Mirror == "" {
		h.Mirror, h.Suite = defaultMirror, defaultSuite
	}
	if h.SecurityMirror == "" {
		h.SecurityMirror = defaultSecurityMirror
	}
	h.Mirror = strings.TrimRight(h.Mirror, "/")
	h.SecurityMirror = strings.TrimRight(h.SecurityMirror, "/")
	return h
}

// parseDeb822 reads the stanzas of a .sources file. Disabled stanzas
// (Enabled: no) and non-deb types are skipped.
func parseDeb822(text string) []aptEntry {
	var out []aptEntry
	fields := map[string]string{}
	flush := func() {
		if len(fields) == 0 {
			return
		}
		defer clear(fields)
		if strings.EqualFold(fields["enabled"], "no") || !slices.Contains(strings.Fields(fields["types"]), "deb") {
			return
		}
		for _, uri := range strings.Fields(fields["uris"]) {
			for _, suite := range strings.Fields(fields["suites"]) {
				out = append(out, aptEntry{uri, suite})
			}
		}
	}
	var last string
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.TrimSpace(line) == "":
			flush()
			last = ""
		case strings.HasPrefix(line, "#"):
		case line[0] == ' ' || line[0] == '\t': // continuation
			if last != "" {
				fields[last] += " " + strings.TrimSpace(line)
			}
		default:
			k, v, ok := strings.Cut(line, ":")
			if !ok {
				continue
			}
			last = strings.ToLower(strings.TrimSpace(k))
			fields[last] = strings.TrimSpace(v)
		}
	}
	flush()
	return out
}

// parseOneLine reads sources.list lines: `deb [opts] uri suite comp...`.
func parseOneLine(text string) []aptEntry {
	var out []aptEntry
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		line, _, _ := strings.Cut(sc.Text(), "#")
		f := strings.Fields(line)
		if len(f) < 3 || f[0] != "deb" {
			continue
		}
		f = f[1:]
		if strings.HasPrefix(f[0], "[") { // options, possibly spanning fields
			for len(f) > 0 && !strings.HasSuffix(f[0], "]") {
				f = f[1:]
			}
			if len(f) > 0 {
				f = f[1:]
			}
		}
		if len(f) >= 2 {
			out = append(out, aptEntry{f[0], f[1]})
		}
	}
	return out
}
