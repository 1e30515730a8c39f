package steps

import (
	"context"

	"diffuser/runner"

	"github.com/zclconf/go-cty/cty"
)

// Check is what a kind found on the host.
type Check struct {
	OK     bool   // the host already is as declared: nothing to do
	Reason string // when !OK, what differs ("package glusterfs-server not installed")
}

// Kind is one step kind (run, package, file, format, mount, service, wait).
// Its Schema declares its arguments and their rules; args is an object
// value decoded with the Schema's Spec, wholly known when Check and Apply
// are called, and both validate it with the Schema before anything else.
type Kind interface {
	Name() string
	Schema() *Schema
	Check(ctx context.Context, r runner.Runner, args cty.Value) (Check, error)
	Apply(ctx context.Context, r runner.Runner, args cty.Value) (Outputs, error)
}

// Outputs are values a step instance produces (run's capture).
type Outputs map[string]string

// Destroyer is implemented by kinds that undo themselves when their step
// leaves the recipe (mount unmounts). A step's own `destroy` command is
// run by the engine and needs no kind support.
type Destroyer interface {
	Destroy(ctx context.Context, r runner.Runner, args cty.Value) error
}

// Replacer is implemented by kinds whose instance is what some of its
// arguments name (a mount its target, a file its path, a service its
// unit): an update that changes them leaves the old one behind, so the
// engine undoes the instance as last applied first and then applies the
// new arguments, as Terraform replaces a resource whose identifying
// arguments change (ForceNew). The undo is the kind's own when it is a
// Destroyer (Destroy with the old arguments: unmount), else the step's
// destroy command as recorded for the old instance, when the step still
// has one; with neither there is nothing to undo and the update stays in
// place. Replaces says why for the plan ("the mount moves from /a to
// /b"), "" when an update in place is right. old and new are wholly known
// and unmarked.
type Replacer interface {
	Replaces(old, new cty.Value) string
}

// Leaver is implemented by kinds whose instance, updated in place, may
// have made with its old arguments something the new ones do not keep (a
// mount's /etc/fstab line when fstab goes from true to false): Apply of
// the new arguments would leave it behind for good, and Destroy, called
// later with the new arguments, would not know of it either. Before Apply
// of new, the engine calls Leave with the arguments state recorded for
// the instance as last applied (old) and the new ones, both wholly known,
// when the update is no replacement (Replacer) and the old arguments are
// recorded; Leave removes that part, nothing else (the mount stays
// mounted), and does nothing when new keeps all old made. A Leave that
// fails fails the step with nothing new done: state keeps the old
// instance, so the next apply calls Leave again.
type Leaver interface {
	Leave(ctx context.Context, r runner.Runner, old, new cty.Value) error
}

// Checker is implemented by kinds whose Check can tell that the work is
// done only for some arguments: a run step only with a creates or unless
// guard. Checkable returns why not, or nil. A kind without it can always
// tell (the declarative kinds). diffuser import asks it before trusting
// a Check.
type Checker interface {
	Checkable(args cty.Value) error
}

// Capturer is implemented by kinds whose instances produce outputs from
// commands that only read the host (run's capture): Capture runs them
// without doing the work itself, for an instance found done (import).
type Capturer interface {
	Capture(ctx context.Context, r runner.Runner, args cty.Value) (Outputs, error)
}

// HostLocker is implemented by kinds that must not run twice at once on one
// host (package managers). Kinds returning the same key are serialized per host.
type HostLocker interface {
	HostLock() string
}

type instanceKey struct{}

// WithInstance tells kinds which step instance they run for (its address,
// e.g. `step.brick["server[1]"]`): simulated kinds draw per instance.
func WithInstance(ctx context.Context, addr string) context.Context {
	return context.WithValue(ctx, instanceKey{}, addr)
}

// InstanceFrom returns the address set by WithInstance, or "".
func InstanceFrom(ctx context.Context) string {
	s, _ := ctx.Value(instanceKey{}).(string)
	return s
}

// Target is one host of a group kind's step.
type Target struct {
	Host    string // host name, e.g. "server[1]"
	Address string // private address other hosts reach it at
	Runner  runner.Runner
}

// GroupKind is implemented by kinds that act on every host of a step at
// once (distribute relays one artifact through all of them). The engine
// calls ApplyGroup once, after every instance's prerequisites are done,
// with the hosts whose instances must run; args are the first of those
// instances' arguments (a group step's arguments must not depend on
// `host`). It returns one Outputs and one error per target, in order.
// Steps that wait for one instance of a group step wait for the whole group.
type GroupKind interface {
	Kind
	ApplyGroup(ctx context.Context, targets []Target, args cty.Value) ([]Outputs, []error)
}

// Restarter is a kind that can restart or reload what it manages when a
// step named in restart_on or reload_on changed (the service kind), or
// run again (the run kind). RestartArgs returns the arguments whose Apply
// restarts (reloads) it once, or ok false when nothing is to be restarted
// (a unit declared stopped).
type Restarter interface {
	RestartArgs(args cty.Value, reload bool) (cty.Value, bool)
}

// Rerunner is a Restarter whose restart is running it again (the run
// kind): it has nothing to reload, so reload_on is refused for it.
type Rerunner interface {
	Restarter
	Reruns()
}
