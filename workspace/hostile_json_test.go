package workspace

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPlanFileHostileJSON: a saved plan with a key given twice (the last
// one would be applied, not what the plan showed), a field named twice in
// two cases, or a null where a value belongs is refused with the file,
// the line and column, and what to do; the plan as written is read.
func TestPlanFileHostileJSON(t *testing.T) {
	const good = "{\n  \"format\": \"diffuser-plan\",\n  \"version\": 1,\n  \"lineage\": \"L\",\n  \"serial\": 4,\n" +
		"  \"actions\": {\"step.x[\\\"server[0]\\\"]\": \"noop\"}\n}\n"
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	sp, err := (&Env{}).ReadPlanFile(write("good.plan", good))
	if err != nil || sp.Serial != 4 || len(sp.Actions) != 1 {
		t.Fatalf("the plan as written: %+v, %v", sp, err)
	}
	for _, c := range []struct{ name, content, says string }{
		{"actions twice", strings.Replace(good, "\n}", ",\n  \"actions\": {\"step.x[\\\"server[0]\\\"]\": \"delete\"}\n}", 1),
			`:7:3: actions: the key "actions" is given twice`},
		{"an action twice", strings.Replace(good, `"noop"}`, `"noop", "step.x[\"server[0]\"]": "delete"}`, 1),
			`:6:48: actions["step.x[\"server[0]\"]"]: the key`},
		{"serial in two cases", strings.Replace(good, `"serial": 4,`, `"serial": 4, "Serial": 3,`, 1),
			`:5:16: serial: the key "Serial" names the same field as "serial"`},
		{"lineage null", strings.Replace(good, `"L"`, `null`, 1), `:4:14: lineage: null where a string belongs`},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := write(strings.ReplaceAll(c.name, " ", "-")+".plan", c.content)
			_, err := (&Env{}).ReadPlanFile(p)
			if err == nil {
				t.Fatal("accepted")
			}
			for _, want := range []string{p + c.says, "diffuser plan RECIPE -out " + p} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error does not say %q:\n%v", want, err)
				}
			}
		})
	}
}

// TestRunRecordHostileJSON: a run.json that names its id twice is not
// taken for the run (which id is it?): it reads as a run without a record.
func TestRunRecordHostileJSON(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "20250102T030405.000Z-1")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	id := filepath.Base(dir)
	rec := `{"id":"` + id + `","status":"ok","status":"failed"}`
	if err := os.WriteFile(filepath.Join(dir, "run.json"), []byte(rec), 0o600); err != nil {
		t.Fatal(err)
	}
	r := readRun("w", dir, false)
	if !strings.Contains(r.Error, "damaged run record: "+filepath.Join(dir, "run.json")+`:1:46: status: the key "status" is given twice`) {
		t.Fatalf("read as %+v", r)
	}
}

// TestPlanOutReplacesDamagedPlan: apply refuses a saved plan with a key
// given twice and says to make a new one with plan -out on the same path,
// so plan -out must take that file for a plan it may replace (the -out
// check is lenient on purpose: it tells a plan from a recipe or a state,
// not a sound plan from a damaged one). A state file is still refused.
func TestPlanOutReplacesDamagedPlan(t *testing.T) {
	dir := t.TempDir()
	damaged := filepath.Join(dir, "tfplan")
	content := "{\"format\": \"diffuser-plan\", \"version\": 1, \"actions\": {}, \"actions\": {\"step.x[\\\"a\\\"]\": \"delete\"}}\n"
	if err := os.WriteFile(damaged, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	e := &Env{}
	if _, err := e.ReadPlanFile(damaged); err == nil || !strings.Contains(err.Error(), "-out "+damaged) {
		t.Fatalf("apply reads the damaged plan: %v", err)
	}
	if err := e.overwritablePlan(damaged); err != nil {
		t.Fatalf("plan -out refuses to replace the damaged plan it was told to remake: %v", err)
	}
	st := filepath.Join(dir, "state.json")
	if err := os.WriteFile(st, []byte(`{"version":1,"serial":3,"lineage":"L","hosts":{},"instances":{}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := e.overwritablePlan(st); err == nil {
		t.Fatal("plan -out would replace a state file")
	}
}

// TestRunActionsHostileJSON: an actions.json whose action names its
// action twice shows no actions, not the last one given.
func TestRunActionsHostileJSON(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "20250102T030405.000Z-1")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		actions string
		want    int
	}{
		{"[\n{\"address\":\"launch[\\\"a\\\"]\",\"action\":\"create\"}\n]\n", 1},
		{"[\n{\"address\":\"launch[\\\"a\\\"]\",\"action\":\"create\",\"action\":\"delete\"}\n]\n", 0},
	} {
		if err := os.WriteFile(filepath.Join(dir, "actions.json"), []byte(c.actions), 0o600); err != nil {
			t.Fatal(err)
		}
		if r := readRun("w", dir, true); len(r.Actions) != c.want {
			t.Errorf("%s read as %+v, want %d action(s)", c.actions, r.Actions, c.want)
		}
	}
}
