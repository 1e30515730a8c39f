package cloud_test

import (
	"strings"
	"testing"

	"diffuser/cloud"
)

func TestCheckAptProxy(t *testing.T) {
	for _, c := range []struct {
		in   string
		want cloud.AptProxy
		url  string
	}{
		{"http://10.0.0.5:3142", cloud.AptProxy{Host: "10.0.0.5", Port: 3142}, "http://10.0.0.5:3142/"},
		{"http://10.0.0.5", cloud.AptProxy{Host: "10.0.0.5", Port: 3142}, "http://10.0.0.5:3142/"},
		{"http://cache.lab.example:8080/", cloud.AptProxy{Host: "cache.lab.example", Port: 8080}, "http://cache.lab.example:8080/"},
		{"http://[fd00::1]:3142", cloud.AptProxy{Host: "fd00::1", Port: 3142}, "http://[fd00::1]:3142/"},
	} {
		got, err := cloud.CheckAptProxy(c.in)
		if err != nil {
			t.Errorf("CheckAptProxy(%q): %v", c.in, err)
			continue
		}
		if got != c.want || got.URL() != c.url {
			t.Errorf("CheckAptProxy(%q) = %+v (%s), want %+v (%s)", c.in, got, got.URL(), c.want, c.url)
		}
	}
	for _, bad := range []string{
		"", "controller", "10.0.0.5:3142", "https://10.0.0.5:3142", "ftp://x", "http://", "http://:3142",
		"http://user:pw@10.0.0.5:3142", "http://10.0.0.5:3142/acng", "http://10.0.0.5:3142?x=1", "http://10.0.0.5:0",
		"http://10.0.0.5:65536", "http://10.0.0.5:31a", "http://a;b", "http://$(reboot)", "http://`id`",
		"http://a'b", "http://a\"b", "http://-x", "http://a..b", "http://a b", "http://a%20b", "http://a\nb",
		"http://a\\b", "http://" + strings.Repeat("a", 254),
	} {
		if p, err := cloud.CheckAptProxy(bad); err == nil {
			t.Errorf("CheckAptProxy(%q) = %+v, want an error", bad, p)
		}
	}
}

func TestCheckPackageCache(t *testing.T) {
	for _, c := range []struct {
		in         string
		controller bool
		err        string // "" = accepted
	}{
		{"off", false, ""},
		{"off", true, ""},
		{"controller", true, ""},
		{"controller", false, "no known way to the controller"},
		{"http://10.1.2.3:3142", false, ""},
		{"first", true, `want "off", "controller" or an http URL`},
		{"first", false, `want "off" or an http URL`},
		{"https://cache:3142", true, "want an http:// URL"},
		{"http://cache;rm-rf", true, "neither an IP address nor a host name"},
		{"http://cache;rm -rf /", true, "is not a URL"},
	} {
		err := cloud.CheckPackageCache(c.in, c.controller)
		switch {
		case c.err == "" && err != nil:
			t.Errorf("CheckPackageCache(%q, %v): %v", c.in, c.controller, err)
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
			t.Errorf("CheckPackageCache(%q, %v) = %v, want an error with %q", c.in, c.controller, err, c.err)
		}
	}
}
