package main

import (
	"strings"
	"testing"
)

func TestSingleDashLongFlags(t *testing.T) {
	a := &app{}
	root := a.rootCmd()
	cases := []struct{ in, want string }{
		{"plan glusterfs -var servers=3 -var-file=x.hcl", "plan glusterfs --var servers=3 --var-file=x.hcl"},
		{"apply glusterfs -auto-approve -parallelism=8", "apply glusterfs --auto-approve --parallelism=8"},
		{"plan x -h", "plan x -h"},                                  // short flags stay
		{"plan x --var a=1", "plan x --var a=1"},                    // already long
		{"plan x -notaflag", "plan x --notaflag"},                   // unknown: cobra reports it as typed
		{"plan x -hh", "plan x -hh"},                                // a run of short flags stays
		{"apply x -lock-timeout -1s", "apply x --lock-timeout -1s"}, // a flag's value stays as given
		{"apply x -var -notaflag=1", "apply x --var -notaflag=1"},
		{"apply x -auto-approve -x1", "apply x --auto-approve --x1"}, // a bool flag takes no value
		{"plan x -1s", "plan x -1s"},                                 // not a flag's name
		{"apply x -- -var", "apply x -- -var"},                       // after --, arguments are left alone
		{"plan x -detailed-exitcode", "plan x --detailed-exitcode"},  // Terraform's spelling
	}
	for _, c := range cases {
		got := strings.Join(normalizeArgs(root, strings.Fields(c.in)), " ")
		if got != c.want {
			t.Errorf("%q -> %q, want %q", c.in, got, c.want)
		}
	}
}

// TestUnknownFlagSuggests: a misspelt flag, with one dash (as the docs
// write flags) or two, is named as typed, with the closest flag the
// command has and where its flags are listed.
func TestUnknownFlagSuggests(t *testing.T) {
	for _, c := range []struct{ arg, want string }{
		{"-tagret", "Error: unknown flag: --tagret (did you mean --target? 'diffuser destroy --help' lists its flags)\n"},
		{"--tagret=x", "Error: unknown flag: --tagret (did you mean --target? 'diffuser destroy --help' lists its flags)\n"},
		{"-data-dri", "Error: unknown flag: --data-dri (did you mean --data-dir? 'diffuser destroy --help' lists its flags)\n"},
		{"-zzzzzz", "Error: unknown flag: --zzzzzz ('diffuser destroy --help' lists its flags)\n"},
	} {
		var out strings.Builder
		a := &app{stdout: &out, stderr: &out}
		if code := a.execute(t.Context(), []string{"destroy", "glusterfs", c.arg}); code == 0 || out.String() != c.want {
			t.Errorf("%s: exit %d\n got %q\nwant %q", c.arg, code, out.String(), c.want)
		}
	}
}

// TestTerraformWordsSayWhatInstead: the Terraform commands and flags
// diffuser has no counterpart of by that name say what to type instead;
// other unknown commands keep cobra's message.
func TestTerraformWordsSayWhatInstead(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"refresh", "fsrv"}, `Error: unknown command "refresh" for "diffuser": diffuser has no refresh command: plan asks the hosts`},
		{[]string{"init"}, "diffuser needs no init"},
		{[]string{"taint", `step.x["h"]`}, `apply -replace 'step.NAME["HOST"]'`},
		{[]string{"force-unlock", "x"}, "diffuser state unlock WORKSPACE"},
		{[]string{"apply", "fsrv", "-refresh-only"}, "unknown flag: --refresh-only (diffuser has no refresh-only mode: plan shows what refresh found changed on the hosts, and apply puts it back as the recipe says; 'diffuser apply --help' lists its flags)"},
		{[]string{"plan", "fsrv", "--refresh-only=true"}, "'diffuser plan --help' lists its flags"},
		{[]string{"frobnicate"}, "Error: unknown command \"frobnicate\" for \"diffuser\"\n"},
	} {
		var out strings.Builder
		a := &app{stdout: &out, stderr: &out}
		if code := a.execute(t.Context(), c.args); code != exitError || !strings.Contains(out.String(), c.want) {
			t.Errorf("%q: exit %d\n got %q\nwant it to hold %q", c.args, code, out.String(), c.want)
		}
	}
}
