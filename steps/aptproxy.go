package steps

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"diffuser/cloud"
	"diffuser/runner"
)

// The files a package cache puts on an apt host. AptProxyConf names the
// detect script as apt's Acquire::http::Proxy-Auto-Detect; apt runs it for
// every http mirror host it fetches from, with the URL, and it prints the
// cache's URL when the cache answers a HEAD of that URL with a status
// below 500 within 5 s, else DIRECT. So a cache that is down (the
// controller rebooted) or cannot reach the mirror (apt-cacher-ng answers
// 503) costs at most 5 s per apt run, never a failed install. https
// mirrors are never proxied.
const (
	AptProxyConf   = "/etc/apt/apt.conf.d/00diffuser-package-cache"
	AptProxyDetect = "/etc/apt/diffuser-package-cache-detect"
)

// AptProxyRemoveCmd removes both files (destroy of a host diffuser does not
// own, such as a static one). It prints nothing and always succeeds.
const AptProxyRemoveCmd = "rm -f " + AptProxyConf + " " + AptProxyDetect

type aptProxyKey struct{}

// WithAptProxy tells the package kind the URL of the host's package cache
// (an apt-cacher-ng or any HTTP proxy for apt), "" for none. The engine
// sets it from the host's recorded apt_proxy attribute, which its provider
// chose at launch from the package_cache setting.
func WithAptProxy(ctx context.Context, proxyURL string) context.Context {
	return context.WithValue(ctx, aptProxyKey{}, proxyURL)
}

// AptProxyFrom returns the URL set by WithAptProxy, or "".
func AptProxyFrom(ctx context.Context) string {
	s, _ := ctx.Value(aptProxyKey{}).(string)
	return s
}

// AptProxyFiles returns the contents of AptProxyConf and AptProxyDetect
// for p.
func AptProxyFiles(p cloud.AptProxy) (conf, detect string) {
	conf = "// Written by diffuser (package_cache): apt asks " + AptProxyDetect + "\n" +
		"// for the cluster's package cache, which it names only when the cache answers.\n" +
		"// diffuser destroy removes this file; so may you, to fetch directly.\n" +
		"Acquire::http::Proxy-Auto-Detect \"" + AptProxyDetect + "\";\n"
	detect = "#!/bin/sh\n" +
		"# Written by diffuser (package_cache). apt runs it with the URL it is about to\n" +
		"# fetch and uses what it prints: the package cache when the cache answers a\n" +
		"# HEAD of that URL with a status below 500 within 5 s, else DIRECT (the cache\n" +
		"# is down, or up but unable to reach the mirror).\n" +
		"url=$(printf '%s' \"${1:-http://deb.debian.org/}\" | tr -d '\\r\\n')\n" +
		"status=$(timeout 5 bash -c 'exec 3<>\"/dev/tcp/$0/$1\" && printf \"HEAD %s HTTP/1.0\\r\\n\\r\\n\" \"$2\" >&3 && head -c 12 <&3' " +
		shellJoin(p.Host, strconv.Itoa(p.Port)) + " \"$url\" 2>/dev/null)\n" +
		"case $status in\n" +
		"'HTTP/1.'[01]' '[1-4]*) echo " + ShellQuote(p.URL()) + " ;;\n" +
		"*) echo DIRECT ;;\n" +
		"esac\n"
	return conf, detect
}

// aptProxyReadCmd prints both files, the script first, with a marker
// between them; a missing file prints nothing.
const aptProxyReadCmd = "cat " + AptProxyDetect + " 2>/dev/null; echo '#--diffuser--'; cat " + AptProxyConf + " 2>/dev/null; true"

// ensureAptProxy makes the host's package cache files say proxyURL ("" =
// none: nothing is touched). One command when they already do; else the
// two files are uploaded (atomically: temp file and rename).
func ensureAptProxy(ctx context.Context, r runner.Runner, proxyURL string) error {
	if proxyURL == "" {
		return nil
	}
	p, err := cloud.CheckAptProxy(proxyURL)
	if err != nil {
		return fmt.Errorf("the host's recorded apt_proxy: %w", err)
	}
	conf, detect := AptProxyFiles(p)
	res, err := Probe(ctx, r, "reading the package cache settings", aptProxyReadCmd)
	if err != nil {
		return err
	}
	if res.Stdout == detect+"#--diffuser--\n"+conf {
		return nil
	}
	// The script first: the conf names it.
	if err := r.Upload(ctx, strings.NewReader(detect), AptProxyDetect, 0o755); err != nil {
		return fmt.Errorf("writing %s: %w", AptProxyDetect, err)
	}
	if err := r.Upload(ctx, strings.NewReader(conf), AptProxyConf, 0o644); err != nil {
		return fmt.Errorf("writing %s: %w", AptProxyConf, err)
	}
	return nil
}
