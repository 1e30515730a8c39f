package state

import (
	"encoding/json"
	"errors"
	"fmt"
)

// RecordKind says which map of State a Record changes.
type RecordKind string

// Record kinds.
const (
	KindInstance RecordKind = "instance" // State.Steps, keyed by instance address
	KindHost     RecordKind = "host"     // State.Hosts, keyed by host name
)

// Record is one change to one step instance or one host: a put of the whole
// value or a delete, by key. Applying a Record twice has the same effect as
// applying it once, which is what makes journal replay safe after a crash.
// It is one line of the journal. Build it with PutInstance, DeleteInstance,
// PutHost or DeleteHost.
type Record struct {
	Kind     RecordKind `json:"kind"`
	Key      string     `json:"key"`                // instance address or host name
	Delete   bool       `json:"delete,omitempty"`   // remove Key; Instance and Host are nil
	Instance *Instance  `json:"instance,omitempty"` // new value of a KindInstance put
	Host     *Host      `json:"host,omitempty"`     // new value of a KindHost put
}

// PutInstance records inst as the state of the step instance at address
// (e.g. `step.glusterd["server[1]"]`).
func PutInstance(address string, inst *Instance) Record {
	return Record{Kind: KindInstance, Key: address, Instance: inst}
}

// DeleteInstance records that the step instance at address is gone.
func DeleteInstance(address string) Record {
	return Record{Kind: KindInstance, Key: address, Delete: true}
}

// PutHost records h, keyed by h.Name.
func PutHost(h *Host) Record {
	r := Record{Kind: KindHost, Host: h}
	if h != nil {
		r.Key = h.Name
	}
	return r
}

// DeleteHost records that the host called name is gone.
func DeleteHost(name string) Record {
	return Record{Kind: KindHost, Key: name, Delete: true}
}

// String names the change, e.g. `put instance step.a["h[0]"]`.
func (r Record) String() string {
	op := "put"
	if r.Delete {
		op = "delete"
	}
	return fmt.Sprintf("%s %s %s", op, r.Kind, r.Key)
}

// Validate reports whether r is well formed: a known kind, a key, and a
// value exactly when it is a put.
func (r Record) Validate() error {
	if r.Key == "" {
		return errors.New("record has no key")
	}
	switch r.Kind {
	case KindInstance:
		if r.Host != nil {
			return fmt.Errorf("%s: an instance record carries a host", r)
		}
		if r.Delete != (r.Instance == nil) {
			return fmt.Errorf("%s: a put needs an instance and a delete none", r)
		}
	case KindHost:
		if r.Instance != nil {
			return fmt.Errorf("%s: a host record carries an instance", r)
		}
		if r.Delete != (r.Host == nil) {
			return fmt.Errorf("%s: a put needs a host and a delete none", r)
		}
		if r.Host != nil && r.Host.Name != r.Key {
			return fmt.Errorf("%s: the host is named %q", r, r.Host.Name)
		}
	default:
		return fmt.Errorf("record %q has unknown kind %q", r.Key, r.Kind)
	}
	return nil
}

// Apply makes the change r describes to s. The value r carries is stored,
// not copied. Apply is not safe for concurrent use with anything else that
// touches s.
func (s *State) Apply(r Record) error {
	if err := r.Validate(); err != nil {
		return err
	}
	switch r.Kind {
	case KindInstance:
		if s.Steps == nil {
			s.Steps = map[string]*Instance{}
		}
		if r.Delete {
			delete(s.Steps, r.Key)
		} else {
			s.Steps[r.Key] = r.Instance
		}
	case KindHost:
		if s.Hosts == nil {
			s.Hosts = map[string]*Host{}
		}
		if r.Delete {
			delete(s.Hosts, r.Key)
		} else {
			s.Hosts[r.Key] = r.Host
		}
	}
	return nil
}

// line encodes r as one journal line, newline included.
func (r Record) line() ([]byte, error) {
	if err := r.Validate(); err != nil {
		return nil, err
	}
	if !r.Delete {
		var b []byte
		var err error
		if r.Kind == KindHost {
			b, err = appendHostRecord(make([]byte, 0, 512), r.Host)
		} else {
			b, err = appendInstanceRecord(make([]byte, 0, 512), r.Key, r.Instance)
		}
		if err != nil {
			return nil, fmt.Errorf("encode %s: %w", r, err)
		}
		return b, nil
	}
	b, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", r, err)
	}
	return append(b, '\n'), nil
}
