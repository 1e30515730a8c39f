package probe

import (
	"fmt"
	"strings"

	"diffuser/lang"
	"diffuser/state"
)

// failover is one verify block's failover check. A re-read of the file the
// readers already read can be answered by the reader's page cache (and by
// a FUSE daemon's own cache: mfsmount keeps data it read) without any
// server, so it proves nothing. Instead:
//
//   - a second ("cold") file is written on the writer before the stop, so
//     every server that should hold a copy has one, and nobody else reads it;
//   - after the stop it is read on the first reader, for the first time
//     there: no cache on that host can hold it. When the writer is the only
//     host (it wrote the file, so its cache may), the file's cached pages
//     are dropped first (dd iflag=nocache: posix_fadvise, allowed without
//     privileges, unlike /proc/sys/vm/drop_caches in a container);
//   - the read uses O_DIRECT (dd iflag=direct) where the filesystem takes
//     it (FUSE passes it to the daemon: glusterfs, ceph-fuse, mfsmount and
//     the kernel NFS client all accept it), else a buffered read, and the
//     check says which;
//   - the filesystem is asked which servers hold the file (locate.go), or
//     for a mount through one server (NFS, GVfs to a gateway) which server
//     that is. When it names only the stopped one, the read cannot have
//     come from a server and the check fails.
type failover struct {
	dir, file      string
	writer, reader string
	stopped        string // the host the stop command runs on
	stop, start    string
	sizeMiB        int
	hosts          map[string]*state.Host
}

// runFn runs cmd on host as a named check, appends it, and returns its
// trimmed stdout and whether it succeeded.
type runFn func(name, host, cmd string) (string, bool)

func (f failover) run(run runFn, last func() *Check) {
	sum, ok := run("write cold file", f.writer, writeCmd(f.file, f.sizeMiB))
	if !ok {
		return
	}
	last().Detail = fmt.Sprintf("%d MiB, sha256 %s…, read by no one before the stop", f.sizeMiB, short(sum))
	if _, ok := run("stop "+f.stopped, f.stopped, f.stop); ok {
		name := "read with " + f.stopped + " down"
		got, ok := run(name, f.reader, coldReadCmd(f.file))
		if ok {
			c := last()
			s, mode, _ := strings.Cut(got, " ")
			switch {
			case s != sum:
				c.OK = false
				c.Detail = fmt.Sprintf("checksum mismatch: wrote %s…, read %s…", short(sum), short(s))
			default:
				c.Detail = "sha256 matches; " + f.howRead(mode)
				where, _ := run("locate", f.reader, locateCmd(f.dir, f.file))
				loc := locate(where, f.hosts)
				lc := last()
				lc.OK, lc.Detail = true, loc.describe(f.stopped)
				if loc.known && loc.onlyOn(f.stopped) {
					lc.OK = false
					what := "the file's only copies are on "
					if loc.through {
						what = "the reader's mount goes through "
					}
					lc.Detail = what + f.stopped + ", which is stopped: the read was answered by a cache, not a server (" + lc.Detail + ")"
				}
			}
		}
	}
	run("start "+f.stopped, f.stopped, f.start)
}

// howRead says what kept caches out of the read.
func (f failover) howRead(mode string) string {
	var b strings.Builder
	if f.reader == f.writer {
		b.WriteString("read on the writer itself (the only host): its cached pages of the file dropped first, ")
	} else {
		b.WriteString("first read of the file on " + f.reader + ", ")
	}
	if mode == "direct" {
		b.WriteString("with O_DIRECT")
	} else {
		b.WriteString("buffered (the filesystem refused O_DIRECT)")
	}
	return b.String()
}

// coldReadCmd drops the file's cached pages, then prints its SHA-256 read
// with O_DIRECT and "direct", or (when O_DIRECT is refused) read normally
// and "buffered". A read error fails the command rather than hashing a
// short read. The file size is a multiple of 1 MiB, as O_DIRECT wants.
func coldReadCmd(file string) string {
	q := lang.ShellQuote(file)
	return "f=" + q + "; e=$(mktemp) || exit 1; " +
		`dd if="$f" iflag=nocache count=0 status=none 2>/dev/null; ` +
		`if dd if="$f" of=/dev/null iflag=direct bs=1M count=1 status=none 2>/dev/null; then flag=direct; mode=direct; else flag=fullblock; mode=buffered; fi; ` +
		`s=$(dd if="$f" iflag=$flag bs=1M status=none 2>"$e" | sha256sum | cut -d' ' -f1); ` +
		`if [ -s "$e" ]; then cat "$e" >&2; rm -f "$e"; exit 1; fi; rm -f "$e"; echo "$s $mode"`
}
