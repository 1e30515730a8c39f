package cloud

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// The package_cache setting of a provider says where the hosts of a
// cluster fetch their packages through, so that each package comes from the
// mirror once: "off" (straight from the mirror), "controller" (an
// apt-cacher-ng on the machine running diffuser, reached at the address
// the provider knows for it: docker's bridge gateway), or the http URL of
// a cache the operator runs. A provider records the URL it chose in each
// host's AttrAptProxy attribute; the package kind writes it into the
// host's apt configuration before its first install.
const (
	PackageCacheOff        = "off"
	PackageCacheController = "controller"
	// AttrAptProxy is the host attribute holding the package cache's URL.
	AttrAptProxy = "apt_proxy"
	// AptCacherPort is apt-cacher-ng's port, the default of a URL without one.
	AptCacherPort = 3142
)

// MachineKeeper is implemented by providers whose Destroy leaves the
// machine running (static: it is not diffuser's). Destroying such a host
// first removes what diffuser wrote outside any step: the package cache's
// apt files.
type MachineKeeper interface {
	KeepsMachines() bool
}

// CheckPackageCache checks a package_cache value: "off", "controller"
// when controller is true (the provider can reach its controller), or a
// URL CheckAptProxy accepts.
func CheckPackageCache(v string, controller bool) error {
	switch v {
	case PackageCacheOff:
		return nil
	case PackageCacheController:
		if controller {
			return nil
		}
		return fmt.Errorf("package_cache = %q: this provider's hosts have no known way to the controller; give the URL of a cache they reach (http://host:3142) or \"off\"", v)
	}
	if !strings.Contains(v, "://") {
		want := `"off", "controller" or an http URL such as "http://10.0.0.5:3142"`
		if !controller {
			want = `"off" or an http URL such as "http://10.0.0.5:3142"`
		}
		return fmt.Errorf("package_cache = %q: want %s", v, want)
	}
	_, err := CheckAptProxy(v)
	return err
}

// AptProxy is a checked package cache address: only what CheckAptProxy
// lets through reaches a host's files and commands.
type AptProxy struct {
	Host string // a DNS name or an IP address (IPv6 without brackets)
	Port int
}

// URL is the proxy as apt wants it: http://host:port/.
func (p AptProxy) URL() string {
	return "http://" + net.JoinHostPort(p.Host, strconv.Itoa(p.Port)) + "/"
}

// CheckAptProxy parses a package cache URL: http, a host that is an IP
// address or a DNS name (letters, digits, '-' and '.'), an optional port
// (default AptCacherPort), no user, query or path but "/". What it
// accepts holds no character a shell or apt.conf treats specially.
func CheckAptProxy(s string) (AptProxy, error) {
	u, err := url.Parse(s)
	if err != nil {
		return AptProxy{}, fmt.Errorf("package cache %q is not a URL: %v", s, err)
	}
	if u.Scheme != "http" {
		return AptProxy{}, fmt.Errorf("package cache %q: want an http:// URL such as http://10.0.0.5:3142 (apt-cacher-ng speaks plain http)", s)
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" || (u.Path != "" && u.Path != "/") || u.Opaque != "" {
		return AptProxy{}, fmt.Errorf("package cache %q: want only http://host:port, without user, path or query", s)
	}
	host, port := u.Hostname(), AptCacherPort
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return AptProxy{}, fmt.Errorf("package cache %q: port %q is not a number from 1 to 65535", s, p)
		}
		port = n
	}
	if !validProxyHost(host) {
		return AptProxy{}, fmt.Errorf("package cache %q: %q is neither an IP address nor a host name", s, host)
	}
	return AptProxy{Host: host, Port: port}, nil
}

// validProxyHost accepts an IP address or a DNS name.
func validProxyHost(h string) bool {
	if net.ParseIP(h) != nil {
		return true
	}
	if h == "" || len(h) > 253 || strings.HasPrefix(h, "-") || strings.HasPrefix(h, ".") || strings.Contains(h, "..") {
		return false
	}
	for _, c := range h {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}
