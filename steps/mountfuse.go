package steps

import "strings"

// How FUSE filesystems show their mounts. A FUSE daemon chooses the type
// ("fuse" or "fuse.<subtype>") and the source (its "fsname") that
// /proc/mounts and findmnt show, whatever the mount command said. These
// are the ones diffuser's built-in recipes mount (checked on the hosts,
// Debian 12):
//
//	declared                                       shown in /proc/mounts
//	glusterfs  10.0.0.2:/gv0                       fuse.glusterfs  10.0.0.2:/gv0
//	fuse.ceph  none  (mount.fuse.ceph: ceph.id=…)  fuse.ceph-fuse  ceph-fuse
//	fuse       mfsmount  (-o mfsmaster=H,mfsport=P) fuse            mfs#H:P
//	nfs        10.0.0.2:/srv/export                nfs4            10.0.0.2:/srv/export
//	pvfs2      tcp://10.0.0.3:3334/orangefs        pvfs2           tcp://10.0.0.3:3334/orangefs
//	davfs      http://10.0.0.2/share/              fuse            http://10.0.0.2/share/
//
// A FUSE mount whose source is the declared one is the declared mount,
// whatever type its program gives (davfs2's plain "fuse", sshfs's
// "fuse.sshfs"): isOurs checks that after the families below.
//
// ceph-fuse always shows "ceph-fuse" as its source, so for it only the type
// is compared: any CephFS mounted by ceph-fuse on the target counts as the
// declared one. mfsmount shows "mfs#MASTER:PORT" (MASTER as given, default
// "mfsmaster"; PORT default 9421), which is compared with the declared
// options.

// mountFamily names the FUSE program a declared mount runs, "" for none
// the kind knows specially.
func (a mountArgs) mountFamily() string {
	switch {
	case a.fstype == "fuse.ceph" || a.fstype == "fuse.ceph-fuse" || a.fstype == "ceph-fuse":
		return "ceph-fuse"
	case a.fstype == "fuse.mfs" || a.fstype == "fuse.mfsmount" || a.fstype == "mfs" ||
		(a.fstype == "fuse" && (a.source == "mfsmount" || strings.HasPrefix(a.source, "mfsmount#") || strings.HasPrefix(a.source, "mfs#"))):
		return "mfsmount"
	}
	return ""
}

// mfsShown is the source mfsmount shows for the declared mount: the
// declared one when it is written "mfs#…", else mfs#MASTER:PORT from the
// options.
func (a mountArgs) mfsShown() string {
	if strings.HasPrefix(a.source, "mfs#") {
		return a.source
	}
	master, port := "mfsmaster", "9421"
	for _, o := range strings.Split(a.options, ",") {
		k, v, _ := strings.Cut(o, "=")
		switch k {
		case "mfsmaster":
			master = v
		case "mfsport":
			port = v
		}
	}
	return "mfs#" + master + ":" + port
}

// fuseMatches reports, for a declared mount of a family mountFamily knows,
// whether the live mount m is it (ok) — and whether the family decided at
// all (known).
func (a mountArgs) fuseMatches(m mounted) (ok, known bool) {
	switch a.mountFamily() {
	case "ceph-fuse":
		return m.fstype == "fuse.ceph-fuse" || (m.fstype == "fuse" && m.source == "ceph-fuse"), true
	case "mfsmount":
		if m.fstype != "fuse" && m.fstype != "fuse.mfs" && m.fstype != "fuse.mfsmount" {
			return false, true
		}
		want, got := normSource(a.mfsShown()), normSource(m.source)
		return got == want || strings.HasPrefix(got, want+"/"), true
	}
	return false, false
}
