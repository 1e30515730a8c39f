package engine_test

import (
	"strings"
	"testing"

	"diffuser/engine"
)

const orphanRecipe = `
recipe "t" {}
variable "n" {
  type    = number
  default = 2
}
hosts "a" { count = var.n }
step "a1" {
  on      = hosts.a
  run     = "echo a1"
  destroy = "echo undo-a1 on ${host.name}"
}
`

// TestInstancesOfAHostNotInState: state whose step instances name a host
// it does not record (what a replace leaves when the new launch does not
// finish: the old host is deleted first; or a hand edit) is read. A
// recipe that keeps the host launches it and runs its steps; one that
// dropped it, or a destroy, forgets the instances without running their
// destroy commands anywhere (there is no machine to run them on), and
// the plan says so instead of listing them as an ordinary destroy.
func TestInstancesOfAHostNotInState(t *testing.T) {
	orphan := func(t *testing.T) *world {
		w := newWorld(t, orphanRecipe)
		if res := w.apply(w.plan(), 4); len(res.Failures) != 0 {
			t.Fatalf("apply: %v", res.Failures)
		}
		delete(w.st.Hosts, "a[1]")
		if err := w.st.Check(); err != nil {
			t.Fatalf("state.Check: %v", err)
		}
		return w
	}
	undone := func(w *world) int { return w.cloud.CountMatching("undo-a1 on a[1]") }
	const why = `its host a[1] is not in state: forgotten, its destroy command (if any) is not run`

	t.Run("the recipe keeps the host", func(t *testing.T) {
		w := orphan(t)
		p := w.plan()
		if s := summary(p); !strings.Contains(s, `+ launch["a[1]"]`) || !strings.Contains(s, `+ step.a1["a[1]"]`) {
			t.Fatalf("plan:\n%s", s)
		}
		if res := w.apply(p, 4); len(res.Failures) != 0 || w.st.Hosts["a[1]"] == nil || undone(w) != 0 {
			t.Fatalf("apply: %v, a[1] in state %v, undo ran %d", res.Failures, w.st.Hosts["a[1]"] != nil, undone(w))
		}
	})
	t.Run("the recipe dropped the host", func(t *testing.T) {
		w := orphan(t)
		w.vars = []string{"n=1"}
		p := w.plan()
		if len(p.Destroys) != 1 || p.Destroys[0].Reason != engine.ReasonGone+"; "+why {
			t.Fatalf("plan:\n%s", reasons(p))
		}
		if res := w.apply(p, 4); len(res.Failures) != 0 || len(w.st.Steps) != 1 || undone(w) != 0 {
			t.Fatalf("apply: %v, %d instances left, undo ran %d", res.Failures, len(w.st.Steps), undone(w))
		}
	})
	t.Run("destroy", func(t *testing.T) {
		w := orphan(t)
		p := w.plan(func(o *engine.PlanOptions) { o.Destroy = true })
		if s := reasons(p); !strings.Contains(s, `- step.a1["a[1]"] (`+why+`)`) || !strings.Contains(s, `- step.a1["a[0]"]`+"\n") {
			t.Fatalf("destroy plan:\n%s", s)
		}
		if res := w.apply(p, 4); len(res.Failures) != 0 || len(w.st.Steps) != 0 || undone(w) != 0 || w.cloud.CountMatching("undo-a1 on a[0]") != 1 {
			t.Fatalf("destroy: %v, %d instances left, undo on a[1] ran %d", res.Failures, len(w.st.Steps), undone(w))
		}
	})
	t.Run("targeted destroy", func(t *testing.T) {
		w := orphan(t)
		p := w.plan(func(o *engine.PlanOptions) { o.Destroy, o.Targets = true, []string{"step.a1"} })
		if s := reasons(p); !strings.Contains(s, `- step.a1["a[1]"] (`+engine.ReasonTargeted+"; "+why+`)`) {
			t.Fatalf("destroy -target plan:\n%s", s)
		}
		if res := w.apply(p, 4); len(res.Failures) != 0 || len(w.st.Steps) != 0 || undone(w) != 0 {
			t.Fatalf("destroy -target: %v, %d instances left, undo on a[1] ran %d", res.Failures, len(w.st.Steps), undone(w))
		}
	})
}

// reasons is the plan's destroys with their reasons, one a line.
func reasons(p *engine.Plan) string {
	var b strings.Builder
	for _, c := range p.Destroys {
		b.WriteString("- " + c.Addr)
		if c.Reason != "" {
			b.WriteString(" (" + c.Reason + ")")
		}
		b.WriteString("\n")
	}
	return b.String()
}
