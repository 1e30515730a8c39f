package state

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Fragments of a valid state.json: one host, one step instance on it.
const (
	hjHost = `{"name":"server[0]","group":"server","index":0,"provider":"static","provider_id":"p0",` +
		`"ssh":{"address":"10.0.0.1","port":22,"user":"root"},"digest":"d","launched":"2025-01-01T00:00:00Z"}`
	hjInst = `{"step":"x","host":"server[0]","kind":"run","digest":"d","args":{"cmd":"true"},"status":"applied",` +
		`"started":"2025-01-01T00:00:00Z","finished":"2025-01-01T00:00:00Z"}`
	hjHosts = `"hosts":{"server[0]":` + hjHost + `}`
	hjInsts = `"instances":{"step.x[\"server[0]\"]":` + hjInst + `}`
	hjValid = `{"version":1,"serial":3,"lineage":"L",` + hjHosts + `,` + hjInsts + `}`
	// a journal header continuing hjValid
	hjHeader = `{"journal":1,"lineage":"L","serial":3}` + "\n"
)

// TestHostileJSONRefused feeds Load state files (and journals) that are
// damaged or crafted in the ways encoding/json reads without a word, or
// that a disk, an editor or another tool leaves behind. Each must be
// refused with the file, where in it, and what to do, and leave the
// directory as it was (nothing is planned from a guess); the few that
// are accepted on purpose say what they read.
func TestHostileJSONRefused(t *testing.T) {
	deep := strings.Repeat("[", 20000) + strings.Repeat("]", 20000)
	cases := []struct {
		name    string
		state   string // state.json's content ("-": none)
		journal string // the journal's content ("": none)
		setup   func(t *testing.T, dir string)
		where   string // in the error: the location (JSON path, line:column)
		says    string // in the error: what is wrong
		hint    string // in the error: what to do
	}{
		// Keys given twice: encoding/json keeps the last one.
		{name: "hosts twice, the second empty", state: `{"version":1,"serial":3,"lineage":"L",` + hjHosts + `,` + hjInsts + `,"hosts":{}}`,
			where: "DIR/state.json:1:", says: `hosts: the key "hosts" is given twice`, hint: "state.json.backup"},
		{name: "instances twice", state: `{"version":1,"serial":3,"lineage":"L",` + hjHosts + `,` + hjInsts + `,"instances":{}}`,
			says: `instances: the key "instances" is given twice`, hint: "state.json.backup"},
		{name: "one host twice", state: `{"version":1,"serial":3,"lineage":"L","hosts":{"server[0]":` + hjHost + `,"server[0]":` + hjHost + `},` + hjInsts + `}`,
			says: `hosts["server[0]"]: the key "server[0]" is given twice`},
		{name: "a field twice deep down", state: strings.Replace(hjValid, `"port":22`, `"port":22,"port":2222`, 1),
			says: `hosts["server[0]"].ssh.port: the key "port" is given twice`},
		{name: "a key twice inside arguments", state: strings.Replace(hjValid, `{"cmd":"true"}`, `{"cmd":"true","cmd":"rm -rf /"}`, 1),
			says: `instances["step.x[\"server[0]\"]"].args["cmd"]: the key "cmd" is given twice`},
		{name: "hosts beside Hosts", state: `{"version":1,"serial":3,"lineage":"L",` + hjHosts + `,` + hjInsts + `,"Hosts":{}}`,
			says: `hosts: the key "Hosts" names the same field as "hosts"`},
		{name: "serial beside SERIAL", state: strings.Replace(hjValid, `"serial":3`, `"serial":3,"SERIAL":0`, 1),
			says: `serial: the key "SERIAL" names the same field as "serial"`},

		// Bytes that are not JSON, or not the JSON diffuser writes.
		{name: "a UTF-8 byte order mark", state: "\ufeff" + hjValid, where: "DIR/state.json:1:1", says: "byte order mark", hint: "state.json.backup"},
		{name: "invalid UTF-8 in a string", state: strings.Replace(hjValid, `"digest":"d","launched"`, "\"digest\":\"d\xff\",\"launched\"", 1),
			where: "DIR/state.json:1:", says: `hosts["server[0]"].digest: a string that is not valid UTF-8`},
		{name: "a lone surrogate escape in a string", state: strings.Replace(hjValid, `"digest":"d","launched"`, `"digest":"d\ud800","launched"`, 1),
			where: "DIR/state.json:1:", says: `hosts["server[0]"].digest: a string with the escape \ud800, half of a UTF-16 surrogate pair`, hint: "state.json.backup"},
		{name: "an empty file", state: "", where: "DIR/state.json:", says: "the file is empty", hint: "state.json.backup"},
		{name: "only whitespace", state: " \n\t\n", where: "DIR/state.json:", says: "the file is empty", hint: "state.json.backup"},
		{name: "trailing garbage", state: hjValid + "\n}{", where: "DIR/state.json:2:1", says: "after top-level value", hint: "state.json.backup"},
		{name: "two states one after the other", state: hjValid + "\n" + hjValid, where: "DIR/state.json:2:1", says: "after top-level value"},
		{name: "NaN serial", state: strings.Replace(hjValid, `"serial":3`, `"serial":NaN`, 1), where: "DIR/state.json:1:", says: "invalid character 'N'"},
		{name: "huge serial", state: strings.Replace(hjValid, `"serial":3`, `"serial":1e400`, 1), where: "DIR/state.json:1:", says: "cannot unmarshal number 1e400"},
		{name: "negative serial", state: strings.Replace(hjValid, `"serial":3`, `"serial":-1`, 1), where: "DIR/state.json:1:", says: "cannot unmarshal number -1"},
		{name: "fractional serial", state: strings.Replace(hjValid, `"serial":3`, `"serial":3.5`, 1), where: "DIR/state.json:1:", says: "cannot unmarshal number 3.5"},
		{name: "serial past 2^53", state: strings.Replace(hjValid, `"serial":3`, `"serial":9007199254740993`, 1), says: "serial"},
		{name: "huge port", state: strings.Replace(hjValid, `"port":22`, `"port":99999999999999999999`, 1), where: "DIR/state.json:1:", says: "cannot unmarshal number"},
		{name: "nested 20000 deep", state: strings.Replace(hjValid, `{"cmd":"true"}`, deep, 1), where: "DIR/state.json:1:", says: "exceeded max depth"},
		{name: "the top level null", state: "null", says: "no schema version"},
		{name: "the top level an array", state: "[" + hjValid + "]", where: "DIR/state.json:1:1", says: "cannot unmarshal array"},

		// null (or nothing) where diffuser always writes an object: read as
		// empty, the next plan would launch every host again and re-run
		// every step.
		{name: "hosts null", state: `{"version":1,"serial":3,"lineage":"L","hosts":null,` + hjInsts + `}`, says: "hosts is null", hint: "state.json.backup"},
		{name: "instances null", state: `{"version":1,"serial":3,"lineage":"L",` + hjHosts + `,"instances":null}`, says: "instances is null"},
		{name: "hosts missing", state: `{"version":1,"serial":3,"lineage":"L",` + hjInsts + `}`, says: "hosts is null or missing"},
		{name: "instances missing", state: `{"version":1,"serial":3,"lineage":"L",` + hjHosts + `}`, says: "instances is null or missing"},
		{name: "one host null", state: `{"version":1,"serial":3,"lineage":"L","hosts":{"server[0]":null},` + hjInsts + `}`, says: `host "server[0]" is null`},
		{name: "ssh null", state: strings.Replace(hjValid, `"ssh":{"address":"10.0.0.1","port":22,"user":"root"}`, `"ssh":null`, 1), says: `hosts["server[0]"].ssh: null where an object belongs`},

		// Not a file diffuser wrote at all.
		{name: "state.json is a directory", state: "-", setup: func(t *testing.T, dir string) { mkdir(t, filepath.Join(dir, StateFile)) },
			says: "is not a regular file (a directory)", hint: "remove it"},
		{name: "state.json is a symbolic link", state: "-", setup: func(t *testing.T, dir string) {
			writeFile(t, filepath.Join(dir, "elsewhere.json"), hjValid)
			symlink(t, "elsewhere.json", filepath.Join(dir, StateFile))
		}, says: "is a symbolic link", hint: "put the file itself there"},

		// The journal.
		{name: "journal of another lineage", state: hjValid, journal: `{"journal":1,"lineage":"OTHER","serial":3}` + "\n",
			where: "DIR/state.journal", says: "belongs to state lineage OTHER", hint: "move"},
		{name: "journal header with its serial twice", state: hjValid, journal: `{"journal":1,"lineage":"L","serial":3,"serial":0}` + "\n",
			where: "DIR/state.journal:1:", says: `serial: the key "serial" is given twice`, hint: "move"},
		{name: "journal record with a key twice", state: hjValid,
			journal: hjHeader + `{"kind":"instance","key":"step.x[\"server[0]\"]","delete":true,"delete":false}` + "\n",
			where:   "DIR/state.journal:2:", says: `delete: the key "delete" is given twice`, hint: "move"},
		{name: "journal record with a host null", state: hjValid, journal: hjHeader + `{"kind":"host","key":"server[0]","host":null}` + "\n",
			where: "DIR/state.journal:2", hint: "move"},
		{name: "journal record with invalid UTF-8", state: hjValid,
			journal: hjHeader + "{\"kind\":\"instance\",\"key\":\"step.x[\\\"server[0]\\\"]\xff\",\"delete\":true}\n",
			where:   "DIR/state.journal:2:", says: "key: a string that is not valid UTF-8", hint: "move"},
		{name: "journal header with a negative serial", state: hjValid, journal: `{"journal":1,"lineage":"L","serial":-3}` + "\n",
			where: "DIR/state.journal:1:", says: "cannot unmarshal number -3", hint: "move"},
		{name: "journal ahead of state", state: hjValid, journal: `{"journal":1,"lineage":"L","serial":9}` + "\n",
			where: "DIR/state.journal:1", says: "continues state serial 9", hint: "move"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			if c.state != "-" {
				writeFile(t, filepath.Join(dir, StateFile), c.state)
			}
			if c.journal != "" {
				writeFile(t, filepath.Join(dir, JournalFile), c.journal)
			}
			if c.setup != nil {
				c.setup(t, dir)
			}
			before := snapshotDir(t, dir)
			for _, locked := range []bool{false, true} {
				var st *State
				var err error
				if locked {
					s := Open(dir)
					unlock, lerr := s.Lock(t.Context(), CurrentHolder("test"))
					if lerr != nil {
						t.Fatal(lerr)
					}
					st, err = s.Load()
					_ = unlock()
					_ = os.Remove(filepath.Join(dir, LockFile))
				} else {
					st, err = Open(dir).Load()
				}
				if err == nil {
					t.Fatalf("accepted (locked %v): %d hosts, %d instances", locked, len(st.Hosts), len(st.Steps))
				}
				msg := err.Error()
				if !strings.Contains(msg, dir) {
					t.Errorf("error does not name the directory %s:\n%s", dir, msg)
				}
				rest := strings.ReplaceAll(msg, dir, "DIR") // the test's name is in dir
				for _, want := range []string{c.where, c.says, c.hint} {
					if !strings.Contains(rest, want) {
						t.Errorf("error does not say %q:\n%s", want, msg)
					}
				}
				if locked {
					t.Log(msg)
				}
			}
			if after := snapshotDir(t, dir); !bytes.Equal(before, after) {
				t.Errorf("the directory changed")
			}
		})
	}
}

// TestHostileJSONCaseAlone: a field's name in another case, alone, is read
// as that field (encoding/json does; a save writes it back in its own
// case, so nothing is lost), and a map key in another case is another
// key (host names are case-sensitive).
func TestHostileJSONCaseAlone(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, StateFile), strings.Replace(strings.Replace(hjValid, `"hosts"`, `"HOSTS"`, 1), `"serial"`, `"Serial"`, 1))
	s, st := lockedStore(t, dir)
	if len(st.Hosts) != 1 || st.Hosts["server[0]"] == nil || st.Serial != 3 {
		t.Fatalf("read %d hosts at serial %d", len(st.Hosts), st.Serial)
	}
	if err := s.Save(st); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, StateFile))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(data, []byte(`"hosts": {`)) || bytes.Contains(data, []byte(`HOSTS`)) {
		t.Fatalf("saved:\n%s", data)
	}
}

// TestHostileJSONSealed: a key given twice in an encryption envelope is
// refused as damage, before any key is tried.
func TestHostileJSONSealed(t *testing.T) {
	k := testKey(t, 1)
	sealed := k.seal([]byte(hjValid), purposeState)
	dup := bytes.Replace(sealed, []byte(`}`), []byte(`,"diffuser_encrypted":9}`), 1)
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, StateFile), string(dup))
	_, err := Open(dir, WithKey(k)).Load()
	var ce *CorruptError
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), `the key "diffuser_encrypted" is given twice`) {
		t.Fatalf("got %v", err)
	}
}

func mkdir(t *testing.T, path string) {
	t.Helper()
	if err := os.Mkdir(path, 0o700); err != nil {
		t.Fatal(err)
	}
}

func symlink(t *testing.T, to, path string) {
	t.Helper()
	if err := os.Symlink(to, path); err != nil {
		t.Fatal(err)
	}
}

// TestLockFileKeyTwice: a fallback lock file naming its holder's pid twice
// names no holder (which process is it?): lock info and state unlock say
// which file, where, and to remove it by hand, not only the JSON's fault.
func TestLockFileKeyTwice(t *testing.T) {
	dir := t.TempDir()
	ep := filepath.Join(dir, exclFile)
	rec := `{"pid":1,"pid":2,"hostname":"h","command":"apply"}`
	if err := os.WriteFile(ep, []byte(rec), 0o600); err != nil {
		t.Fatal(err)
	}
	s := Open(dir)
	_, err := s.LockInfo()
	_, berr := s.BreakLock()
	for name, err := range map[string]error{"LockInfo": err, "BreakLock": berr} {
		if err == nil || !strings.Contains(err.Error(), ep+`:1:10: pid: the key "pid" is given twice`) || !strings.Contains(err.Error(), "rm "+ep) {
			t.Errorf("%s: %v; want the file, line:column and how to remove it", name, err)
		}
	}
}
