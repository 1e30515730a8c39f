package sim

import (
	"reflect"
	"testing"

	"diffuser/steps"
	"diffuser/steps/builtin"
)

// TestKindsKeepRealAbilities: a simulated kind has exactly the optional
// abilities of the real kind it stands for, so that a recipe validates,
// plans and graphs with --simulate as it does on hosts. Every simulated
// kind was a Restarter (restart_on on a file step and reload_on on a run
// step passed validate --simulate, and -replace of a file "restarted" it),
// no run kind a Rerunner, and distribute no GroupKind (its instances ran
// one by one, and reading host in its arguments passed).
func TestKindsKeepRealAbilities(t *testing.T) {
	abilities := map[string]reflect.Type{
		"Destroyer":  reflect.TypeFor[steps.Destroyer](),
		"HostLocker": reflect.TypeFor[steps.HostLocker](),
		"Restarter":  reflect.TypeFor[steps.Restarter](),
		"Rerunner":   reflect.TypeFor[steps.Rerunner](),
		"GroupKind":  reflect.TypeFor[steps.GroupKind](),
		"Leaver":     reflect.TypeFor[steps.Leaver](),
	}
	real := builtin.Kinds()
	simulated := Kinds(real, Profile{})
	for name, k := range real {
		s := simulated[name]
		for ability, iface := range abilities {
			has, simHas := reflect.TypeOf(k).Implements(iface), reflect.TypeOf(s).Implements(iface)
			if has != simHas {
				t.Errorf("kind %s: real %s %v, simulated %v", name, ability, has, simHas)
			}
		}
		if l, ok := k.(steps.HostLocker); ok && s.(steps.HostLocker).HostLock() != l.HostLock() {
			t.Errorf("kind %s: simulated host lock %q, real %q", name, s.(steps.HostLocker).HostLock(), l.HostLock())
		}
	}
}
