package probe

import (
	"net"
	"regexp"
	"slices"
	"strings"

	"diffuser/lang"
	"diffuser/state"
)

// locateCmd prints the type and source of the filesystem holding dir, then
// what the filesystem tells a client about where file's data lives:
// GlusterFS's pathinfo (the bricks holding it), MooseFS's mfsfileinfo (the
// chunkservers holding each chunk's copies). An NFS mount's server is its
// source; a GVfs mount's (NFS or SMB through gvfsd-fuse, the gateways')
// is in the name of its directory in the GVfs FUSE tree, where dir's
// symbolic link points. Ceph does not tell a client which OSDs hold an
// object (that is `ceph osd map` on a monitor), nor OrangeFS: locate then
// says so.
func locateCmd(dir, file string) string {
	d, f := lang.ShellQuote(dir), lang.ShellQuote(file)
	return "findmnt -n -r -o FSTYPE,SOURCE -T " + d + " | tail -n 1; " +
		"case $(findmnt -n -r -o FSTYPE -T " + d + " | tail -n 1) in " +
		"fuse.glusterfs) getfattr --absolute-names --only-values -n trusted.glusterfs.pathinfo " + f + " 2>&1;; " +
		"fuse|fuse.mfs|fuse.mfsmount) mfsfileinfo " + f + " 2>&1;; " +
		"fuse.gvfsd-fuse) readlink -f " + d + ";; " +
		"esac; true"
}

// location is what the filesystem said about where a file lives.
type location struct {
	fstype  string
	known   bool     // the filesystem named the servers holding the file
	through bool     // holders are the server the mount goes through (NFS, GVfs), not copies
	holders []string // host names (or addresses state does not know), sorted
	note    string   // why not known
}

var (
	glusterBrick = regexp.MustCompile(`<POSIX\([^)]*\):([^:>]+):`)
	mfsCopy      = regexp.MustCompile(`copy \d+: (\[[0-9a-fA-F:]+\]|[^\s:]+):\d+`)
	// GVfs names a mount's FUSE directory nfs:host=ADDR,prefix=... or
	// smb-share:server=ADDR,share=....
	gvfsServer = regexp.MustCompile(`/gvfs/(?:nfs:host|smb-share:server)=([^,/]+)`)
)

// locate reads locateCmd's output; hosts maps addresses and hostnames
// back to host names.
func locate(out string, hosts map[string]*state.Host) location {
	first, rest, _ := strings.Cut(out, "\n")
	fstype, source, _ := strings.Cut(strings.TrimSpace(first), " ")
	loc := location{fstype: fstype}
	var addrs []string
	switch {
	case fstype == "fuse.glusterfs":
		for _, m := range glusterBrick.FindAllStringSubmatch(rest, -1) {
			addrs = append(addrs, m[1])
		}
	case fstype == "fuse" || fstype == "fuse.mfs" || fstype == "fuse.mfsmount":
		for _, m := range mfsCopy.FindAllStringSubmatch(rest, -1) {
			addrs = append(addrs, strings.Trim(m[1], "[]"))
		}
	case fstype == "nfs" || fstype == "nfs4":
		loc.through = true
		if h, _, ok := strings.Cut(source, ":/"); ok {
			addrs = append(addrs, strings.Trim(h, "[]"))
		}
	case fstype == "fuse.gvfsd-fuse":
		loc.through = true
		if m := gvfsServer.FindStringSubmatch(rest); m != nil {
			addrs = append(addrs, strings.Trim(m[1], "[]"))
		}
	case fstype == "":
		loc.note = "the filesystem holding the path was not found"
		return loc
	default:
		loc.note = fstype + " does not tell a client which server holds a file"
		return loc
	}
	if len(addrs) == 0 {
		loc.note = fstype + " named no server for the file: " + firstLine(strings.TrimSpace(rest))
		return loc
	}
	seen := map[string]bool{}
	for _, a := range addrs {
		n := hostNamed(a, hosts)
		if !seen[n] {
			seen[n] = true
			loc.holders = append(loc.holders, n)
		}
	}
	slices.Sort(loc.holders)
	loc.known = true
	return loc
}

// hostNamed returns the name of the host whose address, hostname or name
// is a, else a itself.
func hostNamed(a string, hosts map[string]*state.Host) string {
	ip := net.ParseIP(a)
	for name, h := range hosts {
		if a == name || a == lang.Hostname(h.Group, h.Index) {
			return name
		}
		for _, addr := range []string{h.PrivateIP, h.PublicIP} {
			if addr == a || (ip != nil && net.ParseIP(addr).Equal(ip)) {
				return name
			}
		}
	}
	return a
}

// onlyOn reports whether every holder is host.
func (l location) onlyOn(host string) bool {
	return l.known && len(l.holders) > 0 && !slices.ContainsFunc(l.holders, func(h string) bool { return h != host })
}

// describe says which servers hold the file and, with stopped down, which
// of them can have served the read.
func (l location) describe(stopped string) string {
	if !l.known {
		return "which server served the read is not known: " + l.note
	}
	var up, all []string
	for _, h := range l.holders {
		if h == stopped {
			all = append(all, h+" (stopped)")
			continue
		}
		all = append(all, h)
		up = append(up, h)
	}
	if l.through {
		if len(up) == 0 {
			return "mounted through " + strings.Join(all, ", ")
		}
		return "served by " + strings.Join(up, " or ") + " (" + l.fstype + ": mounted through " + strings.Join(all, ", ") + ")"
	}
	if len(up) == 0 {
		return "copies on " + strings.Join(all, ", ")
	}
	return "served by " + strings.Join(up, " or ") + " (" + l.fstype + ": copies on " + strings.Join(all, ", ") + ")"
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}
