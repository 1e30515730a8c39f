package engine

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"sort"
	"sync"

	"diffuser/state"
	"diffuser/steps"

	"github.com/hashicorp/hcl/v2/hcldec"
	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"
)

// Digest hashes a step instance's desired input: kind, arguments and host
// identity. ok is false while any argument is unknown. Marks (sensitive)
// do not change the digest.
func Digest(kind string, args cty.Value, host, providerID string) (string, bool) {
	e := encoders.Get().(*encoder)
	defer encoders.Put(e)
	e.reset(false)
	return e.digest(kind, args, host, providerID)
}

// encodeArgs is what apply needs of an instance's arguments, from one walk
// over them: the digest, the JSON state records them as (ctyjson's
// encoding of the unmarked value; nil when it cannot be had), whether they
// are wholly known, and whether they hold marks anywhere.
func encodeArgs(kind string, args cty.Value, host, providerID string) (dg string, js []byte, known, marked bool) {
	e := encoders.Get().(*encoder)
	defer encoders.Put(e)
	e.reset(true)
	dg, known = e.digest(kind, args, host, providerID)
	if !known {
		return "", nil, false, e.marked
	}
	if e.jsonOK {
		js = append([]byte(nil), e.js...)
	} else {
		plain, _ := args.UnmarkDeep()
		js, _ = ctyjson.Marshal(plain, plain.Type())
	}
	return dg, js, true, e.marked
}

var encoders = sync.Pool{New: func() any { return &encoder{buf: make([]byte, 0, 512), js: make([]byte, 0, 512)} }}

// encoder builds, in one walk over a value, the digest input (an
// unambiguous encoding: type tag, lengths, then contents; object and map
// keys sorted) and, when asked, the value's JSON as ctyjson writes it. A
// plan of 100,000 instances digests every one of them: the encoding goes
// to one pooled buffer hashed once, not piece by piece through hash.Hash.
type encoder struct {
	buf    []byte
	js     []byte
	json   bool // build js too
	jsonOK bool // js is complete (false for values ctyjson must handle)
	names  []string
	marked bool // a marked value was seen
}

func (e *encoder) reset(withJSON bool) {
	e.buf, e.js, e.names = e.buf[:0], e.js[:0], e.names[:0]
	e.json, e.jsonOK, e.marked = withJSON, withJSON, false
}

func (e *encoder) digest(kind string, args cty.Value, host, providerID string) (string, bool) {
	for _, s := range []string{kind, host, providerID} {
		e.str(s)
	}
	if !e.value(args) {
		return "", false
	}
	sum := sha256.Sum256(e.buf)
	return hex.EncodeToString(sum[:16]), true
}

func (e *encoder) len(n int) {
	e.buf = binary.LittleEndian.AppendUint64(e.buf, uint64(n))
}

func (e *encoder) str(s string) {
	e.len(len(s))
	e.buf = append(e.buf, s...)
}

// jsonByte appends c to the JSON, if it is being built.
func (e *encoder) jsonByte(c byte) {
	if e.jsonOK {
		e.js = append(e.js, c)
	}
}

func (e *encoder) jsonString(s string) {
	if e.jsonOK {
		e.js = state.AppendJSONString(e.js, s)
	}
}

// value appends v's encoding; it returns false on unknowns.
func (e *encoder) value(v cty.Value) bool {
	if v.IsMarked() {
		v, _ = v.Unmark()
		e.marked = true
	}
	if !v.IsKnown() {
		return false
	}
	if v.IsNull() {
		e.buf = append(e.buf, 'n')
		if e.jsonOK {
			e.js = append(e.js, "null"...)
		}
		return true
	}
	ty := v.Type()
	switch {
	case ty == cty.String:
		s := v.AsString()
		e.buf = append(e.buf, 's')
		e.str(s)
		e.jsonString(s)
	case ty == cty.Number:
		f := v.AsBigFloat()
		e.buf = append(e.buf, '#')
		e.str(f.Text('g', -1))
		if e.jsonOK {
			if f.IsInf() {
				e.jsonOK = false // ctyjson refuses it
			} else {
				e.js = f.Append(e.js, 'f', -1)
			}
		}
	case ty == cty.Bool:
		if v.True() {
			e.buf = append(e.buf, 't')
			if e.jsonOK {
				e.js = append(e.js, "true"...)
			}
		} else {
			e.buf = append(e.buf, 'f')
			if e.jsonOK {
				e.js = append(e.js, "false"...)
			}
		}
	case ty.IsObjectType():
		// Attributes in sorted order, as cty's element iterator visits
		// them, without the iterator's per-call allocations.
		attrs := ty.AttributeTypes()
		e.buf = append(e.buf, '[')
		e.len(len(attrs))
		e.jsonByte('{')
		start := len(e.names)
		for n := range attrs {
			e.names = append(e.names, n)
		}
		names := e.names[start:]
		sort.Strings(names)
		for i, n := range names {
			e.str(n)
			if i > 0 {
				e.jsonByte(',')
			}
			e.jsonString(n)
			e.jsonByte(':')
			if !e.value(v.GetAttr(n)) {
				e.names = e.names[:start]
				return false
			}
		}
		e.names = e.names[:start]
		e.jsonByte('}')
	case ty.IsListType() || ty.IsTupleType() || ty.IsSetType() || ty.IsMapType():
		// Element iterators visit map keys in sorted order, so the
		// encoding is deterministic.
		e.buf = append(e.buf, '[')
		e.len(v.LengthInt())
		keyed := ty.IsMapType()
		open, close := byte('['), byte(']')
		if keyed {
			open, close = '{', '}'
		}
		e.jsonByte(open)
		i := 0
		for it := v.ElementIterator(); it.Next(); i++ {
			k, el := it.Element()
			if i > 0 {
				e.jsonByte(',')
			}
			if keyed {
				ks := k.AsString()
				e.str(ks)
				e.jsonString(ks)
				e.jsonByte(':')
			}
			if !e.value(el) {
				return false
			}
		}
		e.jsonByte(close)
	default:
		e.buf = append(e.buf, '?')
		e.str(ty.FriendlyName())
		e.jsonOK = false
	}
	return true
}

// Redigest recomputes a recorded instance's digest for the host name host
// (and providerID): the digest covers the host's name, so renaming a host
// in state (state mv server[3] storage[0]) must carry its instances'
// digests along, or the next plan would update every one of them. The
// recorded arguments are decoded with the kind's spec; ok is false when
// they cannot give the recorded digest back (a sensitive step records no
// arguments, a kind this build lacks, arguments recorded by an older
// build), and then the caller keeps the recorded digest: the next plan
// updates that instance, which re-runs it.
func Redigest(kinds steps.Registry, inst *state.Instance, host, providerID string) (string, bool) {
	if inst == nil || len(inst.Args) == 0 || inst.Sensitive {
		return "", false
	}
	kind := kinds[inst.Kind]
	if kind == nil {
		return "", false
	}
	for _, ty := range []func() (cty.Type, error){
		func() (cty.Type, error) { return hcldec.ImpliedType(kind.Schema().Spec()), nil },
		func() (cty.Type, error) { return ctyjson.ImpliedType(inst.Args) },
	} {
		t, err := ty()
		if err != nil {
			continue
		}
		v, err := ctyjson.Unmarshal(inst.Args, t)
		if err != nil {
			continue
		}
		// The decoding must give back the recorded digest under the
		// recorded name before it is trusted under the new one.
		if dg, ok := Digest(inst.Kind, v, inst.Host, providerID); !ok || dg != inst.Digest {
			continue
		}
		return Digest(inst.Kind, v, host, providerID)
	}
	return "", false
}
