package steps

import (
	"testing"

	"github.com/hashicorp/hcl/v2/hcldec"
	"github.com/zclconf/go-cty/cty"
)

// argsOf is kind's arguments with attrs set and the rest null, as a
// recorded instance decodes.
func argsOf(k Kind, attrs map[string]string) cty.Value {
	vals := map[string]cty.Value{}
	for name, at := range hcldec.ImpliedType(k.Schema().Spec()).AttributeTypes() {
		vals[name] = cty.NullVal(at)
		if v, ok := attrs[name]; ok {
			vals[name] = cty.StringVal(v)
		}
	}
	return cty.ObjectVal(vals)
}

// TestReplaces: what an instance is (a mount's target, a file's path, a
// service's unit as systemctl reads its name) changing is a replacement,
// naming old and new; anything else is an update in place.
func TestReplaces(t *testing.T) {
	file := func(path, content string) cty.Value {
		return argsOf(FileKind{}, map[string]string{"path": path, "content": content})
	}
	svc := func(name, state string) cty.Value {
		return argsOf(ServiceKind{}, map[string]string{"name": name, "state": state})
	}
	mount := func(source, target string) cty.Value {
		return argsOf(MountKind{}, map[string]string{"source": source, "target": target, "fstype": "xfs"})
	}
	for _, c := range []struct {
		kind     Replacer
		old, new cty.Value
		want     string
	}{
		{FileKind{}, file("/etc/systemd/system/webd.service", "a"), file("/etc/systemd/system/webd2.service", "a"),
			"the file moves from /etc/systemd/system/webd.service to /etc/systemd/system/webd2.service"},
		{FileKind{}, file("/etc/app.conf", "a"), file("/etc/app.conf", "b"), ""},
		{FileKind{}, file("/etc/app.conf", "a"), file("/etc//app.conf", "a"), ""},
		{ServiceKind{}, svc("webd", "started"), svc("webd2", "started"), "the unit changes from webd to webd2"},
		{ServiceKind{}, svc("webd", "started"), svc("webd", "stopped"), ""},
		{ServiceKind{}, svc("webd", "started"), svc("webd.service", "started"), ""},
		{ServiceKind{}, svc("ceph-mon@a", "started"), svc("ceph-mon@a.service", "started"), ""},
		{ServiceKind{}, svc("ceph-mon@a", "started"), svc("ceph-mon@b", "started"), "the unit changes from ceph-mon@a to ceph-mon@b"},
		{ServiceKind{}, svc("app.socket", "started"), svc("app", "started"), "the unit changes from app.socket to app"},
		{ServiceKind{}, svc("app.v2", "started"), svc("app.v2.service", "started"), ""},
		{MountKind{}, mount("/dev/vdb", "/mnt/a"), mount("/dev/vdb", "/mnt/b"), "the mount moves from /mnt/a to /mnt/b"},
		{MountKind{}, mount("/dev/vdb", "/mnt/a"), mount("/dev/vdc", "/mnt/a"), ""},
	} {
		if got := c.kind.Replaces(c.old, c.new); got != c.want {
			t.Errorf("%T.Replaces(%s, %s) = %q, want %q", c.kind, c.old.GoString(), c.new.GoString(), got, c.want)
		}
	}
}
