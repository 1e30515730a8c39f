package builtin

import (
	"time"

	"diffuser/steps"
	"diffuser/steps/distribute"
)

// serviceSettle is how long the service kind waits before confirming a
// started unit is still active.
const serviceSettle = time.Second

// Kinds returns every built-in kind on the real clock.
func Kinds() steps.Registry { return WithClock(steps.SystemClock{}) }

// WithClock returns every built-in kind, with the kinds that poll, settle
// or retry (wait, service, mount, package) on clock. Tests pass a fake
// clock to make them instant.
func WithClock(clock steps.Clock) steps.Registry {
	r := steps.Registry{}
	for _, k := range []steps.Kind{
		steps.RunKind{},
		steps.PackageKind{Clock: clock},
		steps.FileKind{},
		steps.FormatKind{},
		steps.MountKind{Clock: clock},
		steps.ServiceKind{Clock: clock, Settle: serviceSettle},
		steps.WaitKind{Clock: clock},
		distribute.Kind{},
	} {
		r[k.Name()] = k
	}
	return r
}
