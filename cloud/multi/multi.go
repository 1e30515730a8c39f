package multi

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"diffuser/cloud"
)

// Providers routes every host to the provider its spec names. Safe for
// concurrent use when the providers it holds are.
type Providers struct {
	def string
	by  map[string]cloud.Provider
	fw  peerBook // hosts of each provider that others' firewalls admit (peers.go)
}

var (
	_ cloud.Provider     = (*Providers)(nil)
	_ cloud.Importer     = (*Providers)(nil)
	_ cloud.ImportUndoer = (*Providers)(nil)
	_ cloud.Expirer      = (*Providers)(nil)

	_ cloud.DeadlineMover = (*Providers)(nil)
)

// DeadlineCommand asks the spec's provider ("" when it has none to run).
func (m *Providers) DeadlineCommand(spec cloud.HostSpec) string {
	p, err := m.Get(spec.Provider)
	if err != nil {
		return ""
	}
	if d, ok := p.(cloud.DeadlineMover); ok {
		return d.DeadlineCommand(spec)
	}
	return ""
}

// New returns a router over by (keyed by provider key, "aws.east"); a spec
// without Provider goes to def, which must be in by.
func New(def string, by map[string]cloud.Provider) (*Providers, error) {
	if by[def] == nil {
		return nil, fmt.Errorf("multi: default provider %q is not among %v", def, keys(by))
	}
	return &Providers{def: def, by: by}, nil
}

// Name is the default provider's key.
func (m *Providers) Name() string { return m.def }

// Keys lists the provider keys held, sorted.
func (m *Providers) Keys() []string { return keys(m.by) }

// Get returns the provider for key ("" for the default).
func (m *Providers) Get(key string) (cloud.Provider, error) {
	if key == "" {
		key = m.def
	}
	p := m.by[key]
	if p == nil {
		return nil, fmt.Errorf("no provider %q in this workspace (it has %v): add its provider block to the site file", key, keys(m.by))
	}
	return p, nil
}

// Launch launches on the spec's provider.
func (m *Providers) Launch(ctx context.Context, spec cloud.HostSpec) (cloud.Host, error) {
	p, err := m.Get(spec.Provider)
	if err != nil {
		return cloud.Host{}, err
	}
	h, err := p.Launch(ctx, spec)
	if err != nil {
		return h, err
	}
	return h, m.admit(ctx, spec, h)
}

// Status asks the spec's provider.
func (m *Providers) Status(ctx context.Context, spec cloud.HostSpec, h cloud.Host) (cloud.Status, error) {
	p, err := m.Get(spec.Provider)
	if err != nil {
		return "", err
	}
	return p.Status(ctx, spec, h)
}

var _ cloud.Reacher = (*Providers)(nil)

// Reach asks the spec's provider when it is a cloud.Reacher; else h is
// reached as recorded.
func (m *Providers) Reach(ctx context.Context, spec cloud.HostSpec, h cloud.Host) (cloud.Host, error) {
	p, err := m.Get(spec.Provider)
	if err != nil {
		return cloud.Host{}, err
	}
	if r, ok := p.(cloud.Reacher); ok {
		return r.Reach(ctx, spec, h)
	}
	return h, nil
}

// Start starts on the spec's provider.
func (m *Providers) Start(ctx context.Context, spec cloud.HostSpec, h cloud.Host) (cloud.Host, error) {
	p, err := m.Get(spec.Provider)
	if err != nil {
		return cloud.Host{}, err
	}
	started, err := p.Start(ctx, spec, h)
	if err != nil {
		return started, err
	}
	return started, m.admit(ctx, spec, started)
}

// Destroy destroys through the spec's provider.
func (m *Providers) Destroy(ctx context.Context, spec cloud.HostSpec, h cloud.Host) error {
	p, err := m.Get(spec.Provider)
	if err != nil {
		return err
	}
	if err := p.Destroy(ctx, spec, h); err != nil {
		return err
	}
	return m.dismiss(ctx, spec)
}

// Cleanup cleans up every provider, all of them even when one fails.
func (m *Providers) Cleanup(ctx context.Context, cluster string) error {
	var errs []error
	for _, k := range keys(m.by) {
		if err := m.by[k].Cleanup(ctx, cluster); err != nil {
			errs = append(errs, fmt.Errorf("provider %s: %w", k, err))
		}
	}
	return errors.Join(errs...)
}

// Expire marks the deadline through the spec's provider when it can.
func (m *Providers) Expire(ctx context.Context, spec cloud.HostSpec, h cloud.Host) error {
	p, err := m.Get(spec.Provider)
	if err != nil {
		return err
	}
	if e, ok := p.(cloud.Expirer); ok {
		return e.Expire(ctx, spec, h)
	}
	return nil
}

// Import imports through the spec's provider when it can.
func (m *Providers) Import(ctx context.Context, spec cloud.HostSpec, id string) (cloud.Host, error) {
	p, err := m.Get(spec.Provider)
	if err != nil {
		return cloud.Host{}, err
	}
	imp, ok := p.(cloud.Importer)
	if !ok {
		return cloud.Host{}, fmt.Errorf("provider %s cannot import machines", spec.Provider)
	}
	return imp.Import(ctx, spec, id)
}

// UndoImport undoes an import through the spec's provider when it can.
func (m *Providers) UndoImport(ctx context.Context, spec cloud.HostSpec, h cloud.Host) error {
	p, err := m.Get(spec.Provider)
	if err != nil {
		return err
	}
	if u, ok := p.(cloud.ImportUndoer); ok {
		return u.UndoImport(ctx, spec, h)
	}
	return nil
}

func keys(by map[string]cloud.Provider) []string {
	out := make([]string, 0, len(by))
	for k := range by {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
