package engine_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"diffuser/cloud/sim"
	"diffuser/engine"
	"diffuser/lang"
	"diffuser/recipes"
	"diffuser/state"
	"diffuser/steps/builtin"
)

// gatewayApply applies a built-in recipe with vars on simulated hosts and
// returns the loaded recipe and the state.
func gatewayApply(t *testing.T, recipe string, vars ...string) (*engine.Loaded, *state.State) {
	t.Helper()
	l, res, st := builtinApply(t, recipe, nil, vars...)
	if len(res.Failures) > 0 {
		t.Fatalf("apply failed: %v", res.Failures[0].Err)
	}
	return l, st
}

// gatewayArg is one argument of an applied step instance, as recorded.
func gatewayArg(t *testing.T, st *state.State, addr, arg string) string {
	t.Helper()
	inst := st.Steps[addr]
	if inst == nil {
		var have []string
		for a := range st.Steps {
			if strings.Contains(a, "gateway") {
				have = append(have, a)
			}
		}
		t.Fatalf("%s did not run; gateway instances: %v", addr, have)
	}
	var args map[string]any
	if err := json.Unmarshal(inst.Args, &args); err != nil {
		t.Fatalf("%s: %v", addr, err)
	}
	s, _ := args[arg].(string)
	return s
}

func gatewayCount(st *state.State, prefix string) int {
	n := 0
	for a := range st.Steps {
		if strings.HasPrefix(a, prefix) {
			n++
		}
	}
	return n
}

// TestGlusterfsGateways applies the glusterfs recipe with NFS and SMB
// gateways on simulated hosts and reads back what each gateway and client
// was given: the FSAL and the volume's servers, the CTDB nodes, the
// clients' gateway (client i through gateway i mod N), and which verify
// blocks are on.
func TestGlusterfsGateways(t *testing.T) {
	l, st := gatewayApply(t, "glusterfs", "servers=2", "replica=2", "clients=0", "nfs_gateways=2", "smb_gateways=3", "gateway_clients=4")
	ip := func(h string) string { return st.Hosts[h].PrivateIP }
	if n := gatewayCount(st, "module.gateways.module.ganesha.step.config["); n != 2 {
		t.Errorf("nfs-ganesha config on %d gateways, want 2", n)
	}
	if n := gatewayCount(st, "module.gateways.step.smb_conf["); n != 3 {
		t.Errorf("smb.conf on %d gateways, want 3", n)
	}
	if n := gatewayCount(st, "module.gateways.module.ceph_files.step.keyring[") + gatewayCount(st, "module.gateways.module.ceph_files.step.conf["); n != 0 {
		t.Errorf("%d Ceph files written for a GlusterFS backend", n)
	}
	conf := gatewayArg(t, st, `module.gateways.module.ganesha.step.config["gateway[1]"]`, "content")
	for _, want := range []string{"Name = GLUSTER;", `Hostname = "` + ip("server[0]") + `";`, `Volume = "gv0";`, `Pseudo = "/gv0";`,
		"Clients = " + ip("gateway_client[0]") + ", " + ip("gateway_client[1]") + ", " + ip("gateway_client[2]") + ", " + ip("gateway_client[3]") + ";"} {
		if !strings.Contains(conf, want) {
			t.Errorf("ganesha.conf lacks %q:\n%s", want, conf)
		}
	}
	smb := gatewayArg(t, st, `module.gateways.step.smb_conf["gateway[2]"]`, "content")
	for _, want := range []string{"clustering = yes", "vfs objects = glusterfs", "glusterfs:volfile_server = " + ip("server[0]") + " " + ip("server[1]"), "[gv0]", "hosts deny = ALL"} {
		if !strings.Contains(smb, want) {
			t.Errorf("smb.conf lacks %q:\n%s", want, smb)
		}
	}
	nodes := gatewayArg(t, st, `module.gateways.step.ctdb_nodes["gateway[0]"]`, "content")
	if want := fmt.Sprintf("%s\n%s\n%s\n", ip("gateway[0]"), ip("gateway[1]"), ip("gateway[2]")); nodes != want {
		t.Errorf("ctdb nodes %q, want %q", nodes, want)
	}
	if pub := gatewayArg(t, st, `module.gateways.step.ctdb_public["gateway[0]"]`, "content"); pub != "" {
		t.Errorf("public_addresses %q without gateway_public_addresses", pub)
	}
	// Client i mounts through gateway i mod N.
	for c := 0; c < 4; c++ {
		nfsUnit := gatewayArg(t, st, fmt.Sprintf(`module.gateways.module.nfs_mount.step.unit["gateway_client[%d]"]`, c), "content")
		if want := "diffuser-gvfs-nfs-gateway " + ip(fmt.Sprintf("gateway[%d]", c%2)) + "\n"; !strings.Contains(nfsUnit, want) {
			t.Errorf("client %d's NFS unit lacks %q:\n%s", c, want, nfsUnit)
		}
		smbUnit := gatewayArg(t, st, fmt.Sprintf(`module.gateways.module.smb_mount.step.unit["gateway_client[%d]"]`, c), "content")
		if want := "diffuser-gvfs-smb-gateway " + ip(fmt.Sprintf("gateway[%d]", c%3)) + "\n"; !strings.Contains(smbUnit, want) {
			t.Errorf("client %d's SMB unit lacks %q:\n%s", c, want, smbUnit)
		}
	}
	scope := l.StateScope(st)
	for _, v := range l.Recipe.Verifies {
		on, diags := scope.VerifyEnabled(v)
		// clients=0: the recipe's own roundtrip has nothing to mount from.
		if want := v.Name != "roundtrip"; diags.HasErrors() || on != want {
			t.Errorf("verify %s: enabled %v %v, want %v", v.Name, on, diags, want)
		}
	}
}

// TestGatewayVerifyOneGateway: with one NFS gateway (and two SMB ones)
// the NFS verify has no failover (nothing to fail over to; before, it
// "stopped" the one gateway with an echo and then found the read
// answered through it), the SMB verify stops gateway[0].
func TestGatewayVerifyOneGateway(t *testing.T) {
	l, st := gatewayApply(t, "glusterfs", "servers=2", "replica=2", "clients=1", "nfs_gateways=1", "smb_gateways=2", "gateway_clients=2")
	scope := l.StateScope(st)
	want := map[string][]string{"module.gateways.verify.nfs": nil, "module.gateways.verify.smb": {"gateway[0]"}}
	for _, v := range l.Recipe.Verifies {
		w, ok := want[v.Name]
		if !ok {
			continue
		}
		if v.Failover == nil {
			t.Fatalf("verify %s has no failover block", v.Name)
		}
		hosts, diags := scope.VerifyHosts(v, v.Failover.On)
		if diags.HasErrors() || !slices.Equal(hosts, w) {
			t.Errorf("verify %s stops %v %v, want %v", v.Name, hosts, diags, w)
		}
		delete(want, v.Name)
	}
	if len(want) > 0 {
		t.Errorf("verify blocks missing: %v", want)
	}
}

// TestGatewaysOff: without gateways (the default) the recipes have no
// gateway hosts and no gateway step instances, and their gateway verify
// blocks are off.
func TestGatewaysOff(t *testing.T) {
	l, st := gatewayApply(t, "glusterfs", "servers=2", "replica=2", "clients=1")
	for a := range st.Hosts {
		if strings.HasPrefix(a, "gateway") {
			t.Errorf("host %s without gateways", a)
		}
	}
	if n := gatewayCount(st, "module.gateways."); n != 0 {
		t.Errorf("%d gateway module step instances without gateways", n)
	}
	scope := l.StateScope(st)
	for _, v := range l.Recipe.Verifies {
		on, diags := scope.VerifyEnabled(v)
		if diags.HasErrors() || on != (v.Name == "roundtrip") {
			t.Errorf("verify %s: enabled %v %v", v.Name, on, diags)
		}
	}
}

// TestGatewayInputsRefused: hostile or impossible gateway settings are
// errors before anything runs, naming what to change.
func TestGatewayInputsRefused(t *testing.T) {
	for _, c := range []struct {
		recipe string
		vars   []string
		want   string
	}{
		{"glusterfs", []string{"nfs_gateways=-1"}, "var.nfs_gateways is -1; it must be a whole number, at least 0"},
		{"glusterfs", []string{"smb_gateways=-2"}, "var.smb_gateways is -2; it must be a whole number, at least 0"},
		{"ceph", []string{"smb_gateways=1.5"}, "var.smb_gateways is 1.5; it must be a whole number, at least 0"},
		{"ceph", []string{"gateway_clients=-1"}, "var.gateway_clients is -1; it must be a whole number, at least 0"},
		{"glusterfs", []string{"smb_gateways=2", `gateway_public_addresses=["10.0.0.1/24 eth0; rm -rf /"]`}, `module.gateways input public_addresses[0] is "10.0.0.1/24 eth0; rm -rf /"`},
		{"ceph", []string{"smb_gateways=2", `gateway_public_addresses=["$(reboot)"]`}, `public_addresses[0] is "$(reboot)"; each element must be a string matching`},
	} {
		_, diags := engine.Load(lang.Source{FS: recipes.FS(), Dir: c.recipe, Display: c.recipe, Modules: recipes.Modules()},
			lang.Inputs{Vars: c.vars}, sim.Kinds(builtin.Kinds(), sim.Profile{}))
		if !diags.HasErrors() || !strings.Contains(diags.Error(), c.want) {
			t.Errorf("%s %v: %v, want an error saying %q", c.recipe, c.vars, diags, c.want)
		}
	}
}

// TestCephGatewaysPlan plans the ceph recipe with gateways: the Ganesha
// export uses FSAL_CEPH as client.<client_id>, Samba vfs_ceph, and the
// gateways get the cluster's configuration and the client key.
func TestCephGatewaysPlan(t *testing.T) {
	_, st := gatewayApply(t, "ceph", "monitors=1", "osds=2", "clients=0", "nfs_gateways=2", "smb_gateways=2", "client_id=fs")
	conf := gatewayArg(t, st, `module.gateways.module.ganesha.step.config["gateway[0]"]`, "content")
	for _, want := range []string{"Name = CEPH;", `Filesystem = "cephfs";`, `User_Id = "fs";`, `Pseudo = "/cephfs";`} {
		if !strings.Contains(conf, want) {
			t.Errorf("ganesha.conf lacks %q:\n%s", want, conf)
		}
	}
	smb := gatewayArg(t, st, `module.gateways.step.smb_conf["gateway[1]"]`, "content")
	for _, want := range []string{"vfs objects = ceph", "ceph:user_id = fs", "[cephfs]"} {
		if !strings.Contains(smb, want) {
			t.Errorf("smb.conf lacks %q:\n%s", want, smb)
		}
	}
	// The keyring is sensitive: state keeps no arguments of it, only that it
	// ran. One copy of each file per gateway serves Ganesha and Samba.
	if st.Steps[`module.gateways.module.ceph_files.step.keyring["gateway[1]"]`] == nil || st.Steps[`module.gateways.module.ceph_files.step.keyring["gateway[0]"]`] == nil {
		t.Errorf("the gateways got no Ceph keyring")
	}
	if n := gatewayCount(st, "module.gateways.module.ceph_files.step.conf[") + gatewayCount(st, "module.gateways.module.ceph_files.step.keyring["); n != 4 {
		t.Errorf("%d Ceph file step instances on 2 gateways, want 4", n)
	}
	if !strings.Contains(gatewayArg(t, st, `module.gateways.module.ceph_files.step.conf["gateway[0]"]`, "content"), "mon_host = ") {
		t.Errorf("ceph.conf of the gateways has no mon_host")
	}
}

// TestGatewaysModuleRefusesInputs: a recipe calling builtin/gateways with
// hostile or impossible inputs gets an error at the input it wrote, with
// the module's message, before anything runs.
func TestGatewaysModuleRefusesInputs(t *testing.T) {
	for _, c := range []struct{ input, want string }{
		{`backend = "nfs"`, `module.gateways input backend is "nfs"; it must be one of "gluster", "ceph"`},
		{`volume = "gv0\"; rm -rf /; \""`, `it must be a string matching the pattern "[a-zA-Z][a-zA-Z0-9_-]{0,79}"`},
		{`servers = ["10.0.0.1; reboot"]`, `servers[0] is "10.0.0.1; reboot"; each element must be an IP address or a host name`},
		{`public_addresses = ["10.0.0.9/24 eth0 $(reboot)"]`, `public_addresses[0] is "10.0.0.9/24 eth0 $(reboot)"; each element must be a string matching`},
	} {
		inputs := map[string]string{"backend": `"gluster"`, "volume": `"gv0"`, "servers": `["10.0.0.1"]`, "public_addresses": `[]`}
		name, _, _ := strings.Cut(c.input, " = ")
		delete(inputs, name)
		src := "recipe \"r\" {}\nhosts \"gateway\" {\n  count = 2\n}\nhosts \"client\" {\n  count = 2\n}\nmodule \"gateways\" {\n  source   = \"builtin/gateways\"\n  gateways = hosts.gateway\n  clients  = hosts.client\n  nfs      = 2\n  smb      = 2\n  " + c.input + "\n"
		for k, v := range inputs {
			src += "  " + k + " = " + v + "\n"
		}
		src += "}\n"
		fsys := fstest.MapFS{"r/main.hcl": {Data: []byte(src)}}
		_, diags := engine.Load(lang.Source{FS: fsys, Dir: "r", Display: "r", Modules: recipes.Modules()}, lang.Inputs{}, sim.Kinds(builtin.Kinds(), sim.Profile{}))
		if !diags.HasErrors() || !strings.Contains(diags.Error(), c.want) {
			t.Errorf("%s: %v, want an error saying %q", c.input, diags, c.want)
			continue
		}
		if d := diags[0]; d.Subject == nil || d.Subject.Filename != "r/main.hcl" || d.Subject.Start.Line != 14 {
			t.Errorf("%s: error at %v, want r/main.hcl:14 (the input)", c.input, d.Subject)
		}
	}
}
