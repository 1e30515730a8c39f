package engine

import (
	"context"
	"strings"
	"testing"

	"diffuser/lang"
	"diffuser/recipes"
	"diffuser/steps/builtin"
)

// TestUnknownTargetSuggests: a -target a typo away from a step, a module,
// a host group or a host says the near address (keeping the instance key);
// one far from everything lists the forms only.
func TestUnknownTargetSuggests(t *testing.T) {
	l, diags := Load(lang.Source{FS: recipes.FS(), Dir: "glusterfs", Display: "builtin:glusterfs", Modules: recipes.Modules()},
		lang.Inputs{Vars: []string{"nfs_gateways=1"}}, builtin.Kinds())
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	for target, want := range map[string]string{
		"step.packges":                `Did you mean step.packages?`,
		`step.glusterdd["server[1]"]`: `Did you mean step.glusterd["server[1]"]?`,
		"module.gatways":              `Did you mean module.gateways?`,
		"hosts.sever":                 `Did you mean hosts.server?`,
		"sever[0]":                    `Did you mean server[0]?`,
		"step.nothing_like_it":        "matches nothing; use step.NAME",
		// The shell ate the double quotes, or single ones were written.
		"step.glusterd[server[1]]":   `Did you mean step.glusterd["server[1]"]? The host of a step instance is in double quotes; mind the shell: put the whole address in single quotes ('step.glusterd["server[1]"]').`,
		"step.glusterd['server[1]']": `Did you mean step.glusterd["server[1]"]?`,
		"step.glusterdd[server[1]]":  `Did you mean step.glusterd["server[1]"]?`,
		"server":                     `Did you mean hosts.server (all its hosts)?`,
		// A step that is there, on a host it does not run on.
		`step.glusterd["server[7]"]`: `step.glusterd has no instance on server[7]: it runs on server[0], server[1].`,
		`step.glusterd["client[0]"]`: `step.glusterd has no instance on client[0]: it runs on server[0], server[1].`,
	} {
		_, d := l.Plan(context.Background(), PlanOptions{Provider: "sim", Cluster: "test", Targets: []string{target}})
		if !d.HasErrors() || d[0].Summary != "Unknown target" || !strings.Contains(d[0].Detail, want) {
			t.Errorf("-target %s: %v, want %q", target, d, want)
		}
		if want == "matches nothing; use step.NAME" && strings.Contains(d[0].Detail, "Did you mean") {
			t.Errorf("-target %s suggests: %s", target, d[0].Detail)
		}
	}
	for addr, want := range map[string]string{
		"sever[1]":                    `Did you mean server[1]?`,
		`step.glusterdd["server[0]"]`: `Did you mean step.glusterd["server[0]"]?`,
		"nothing[0]":                  "",
		"step.glusterd[server[1]]":    `Did you mean step.glusterd["server[1]"]? The host of a step instance is in double quotes`,
		`step.glusterd['server[0]']`:  `Did you mean step.glusterd["server[0]"]?`,
		`step.glusterd["client[0]"]`:  `step.glusterd has no instance on client[0]: it runs on server[0], server[1].`,
	} {
		_, d := l.Plan(context.Background(), PlanOptions{Provider: "sim", Cluster: "test", Replace: []string{addr}})
		if !d.HasErrors() || d[0].Summary != "Unknown replace address" || (want != "" && !strings.Contains(d[0].Detail, want)) ||
			(want == "" && strings.Contains(d[0].Detail, "Did you mean")) {
			t.Errorf("-replace %s: %v, want %q", addr, d, want)
		}
	}
}
