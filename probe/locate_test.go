package probe

import (
	"testing"

	"diffuser/state"
)

func TestLocate(t *testing.T) {
	hosts := map[string]*state.Host{
		"server[0]":      {Name: "server[0]", Group: "server", Index: 0, PrivateIP: "172.20.0.2"},
		"server[1]":      {Name: "server[1]", Group: "server", Index: 1, PrivateIP: "172.20.0.3"},
		"chunkserver[0]": {Name: "chunkserver[0]", Group: "chunkserver", Index: 0, PrivateIP: "10.1.0.5"},
		"chunkserver[1]": {Name: "chunkserver[1]", Group: "chunkserver", Index: 1, PrivateIP: "10.1.0.6"},
	}
	for _, c := range []struct{ name, out, stopped, want string }{
		{"glusterfs replica", "fuse.glusterfs 172.20.0.2:/gv0\n(<REPLICATE:gv0-replicate-0> <POSIX(/data/brick/gv0):172.20.0.3:/data/brick/gv0/.f> <POSIX(/data/brick/gv0):172.20.0.2:/data/brick/gv0/.f>)\n",
			"server[0]", "served by server[1] (fuse.glusterfs: copies on server[0] (stopped), server[1])"},
		{"glusterfs by hostname", "fuse.glusterfs server-0:/gv0\n(<DISTRIBUTE:gv0-dht> <POSIX(/data/brick/gv0):server-1:/data/brick/gv0/.f>)\n",
			"server[0]", "served by server[1] (fuse.glusterfs: copies on server[1])"},
		{"glusterfs getfattr refused", "fuse.glusterfs 172.20.0.2:/gv0\ngetfattr: .f: Operation not supported\n",
			"server[0]", "which server served the read is not known: fuse.glusterfs named no server for the file: getfattr: .f: Operation not supported"},
		{"moosefs", "fuse mfs#10.1.0.4:9421\n/mnt/moosefs/.f:\n\tchunk 0: 0000000000000005_00000001 / (id:5 ver:1)\n\t\tcopy 1: 10.1.0.5:9422 (status:VALID)\n\t\tcopy 2: 10.1.0.6:9422 (status:VALID)\n\tchunk 1: 0000000000000006_00000001 / (id:6 ver:1)\n\t\tcopy 1: 10.1.0.6:9422 (status:VALID)\n",
			"chunkserver[0]", "served by chunkserver[1] (fuse: copies on chunkserver[0] (stopped), chunkserver[1])"},
		{"nfs", "nfs4 172.20.0.3:/srv/export\n", "", "served by server[1] (nfs4: mounted through server[1])"},
		{"an address state does not know", "nfs 192.0.2.7:/x\n", "", "served by 192.0.2.7 (nfs: mounted through 192.0.2.7)"},
		{"gvfs nfs through a gateway", "fuse.gvfsd-fuse gvfsd-fuse\n/run/diffuser-gvfs-nfs-gateway/gvfs/nfs:host=172.20.0.3,prefix=%2Fgv0\n",
			"server[0]", "served by server[1] (fuse.gvfsd-fuse: mounted through server[1])"},
		{"gvfs smb through the stopped gateway", "fuse.gvfsd-fuse gvfsd-fuse\n/run/diffuser-gvfs-smb-gateway/gvfs/smb-share:server=172.20.0.2,share=gv0\n",
			"server[0]", "mounted through server[0] (stopped)"},
		{"gvfs link not resolved", "fuse.gvfsd-fuse gvfsd-fuse\n/mnt/x\n",
			"server[0]", "which server served the read is not known: fuse.gvfsd-fuse named no server for the file: /mnt/x"},
		{"ceph-fuse", "fuse.ceph-fuse ceph-fuse\n", "osd[1]", "which server served the read is not known: fuse.ceph-fuse does not tell a client which server holds a file"},
		{"nothing", "", "", "which server served the read is not known: the filesystem holding the path was not found"},
	} {
		if got := locate(c.out, hosts).describe(c.stopped); got != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.name, got, c.want)
		}
	}
	if !locate("fuse mfs#m:9421\n\t\tcopy 1: 10.1.0.5:9422 (status:VALID)\n", hosts).onlyOn("chunkserver[0]") {
		t.Error("a chunk only on chunkserver[0] is not onlyOn it")
	}
	if !locate("fuse.gvfsd-fuse gvfsd-fuse\n/run/g/gvfs/smb-share:server=172.20.0.2,share=gv0\n", hosts).onlyOn("server[0]") {
		t.Error("a GVfs mount through server[0] is not onlyOn it")
	}
	if locate("fuse.ceph-fuse ceph-fuse\n", hosts).onlyOn("osd[0]") {
		t.Error("an unknown location is onlyOn a host")
	}
}
