package state

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"diffuser/internal/strictjson"
)

// Fields a state file holds that this build does not know (a hand-edited
// typo, or a field a newer diffuser wrote at the same schema version)
// would be dropped by the next save, since the file is rewritten from the
// decoded types. So a state that has any is read as usual (plan, show,
// state list, output work) but never written: UnknownFieldsError.

// unknown is what decoding found in a state's files that its types do
// not hold.
type unknown struct {
	file   string   // the first file that had any
	fields []string // JSON paths: hosts["server[0]"].ssh.proxy, line 3: instance.colour
}

// UnknownFieldsError is a write refused because the state's file has
// fields this build does not know: writing would drop them.
type UnknownFieldsError struct {
	File   string
	Fields []string
}

func (e *UnknownFieldsError) Error() string {
	fields := e.Fields
	more := ""
	if len(fields) > 10 {
		fields, more = fields[:10], fmt.Sprintf(" and %d more", len(e.Fields)-10)
	}
	return fmt.Sprintf("%s has fields this diffuser does not know: %s%s; writing the state would drop them, so nothing was changed. "+
		"If a newer diffuser wrote them, use it (or upgrade this one); if they were added by hand (a typo of a field's name?), "+
		"remove or correct them. Commands that only read state (plan, show, state list) still work",
		e.File, strings.Join(fields, ", "), more)
}

// Writable returns an *UnknownFieldsError when the files st was decoded
// from had fields this build does not know, else nil. Store.Save refuses
// such a state; a command that will write checks it before it starts
// work (Load under the lock does).
func (s *State) Writable() error {
	if s == nil || len(s.unknown.fields) == 0 {
		return nil
	}
	return &UnknownFieldsError{File: s.unknown.file, Fields: s.unknown.fields}
}

// noteUnknown adds fields found in file.
func (s *State) noteUnknown(file string, fields []string) {
	if len(fields) == 0 {
		return
	}
	if s.unknown.file == "" {
		s.unknown.file = file
	} else if s.unknown.file != file {
		file += ": " // the journal after state.json: say which
		for i, f := range fields {
			fields[i] = file + f
		}
	}
	s.unknown.fields = append(s.unknown.fields, fields...)
}

// decodeKnown decodes data into v (a pointer) as json.Unmarshal does, with
// Unmarshal's errors, refuses what strictjson refuses (a key given twice,
// invalid UTF-8: a *strictjson.Error), and returns the JSON paths of the fields data has
// that v's type does not. The common case, no unknown field, costs one
// decode (and a copy of data in the decoder's buffer).
func decodeKnown(data []byte, v any) ([]string, error) {
	d := json.NewDecoder(bytes.NewReader(data))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err == nil && len(bytes.TrimSpace(data[d.InputOffset():])) == 0 {
		return nil, strictjson.Check(data, reflect.TypeOf(v))
	}
	// Damaged, trailing data, or unknown fields: decode again as
	// Unmarshal does, which reports damage with its offset.
	reflect.ValueOf(v).Elem().SetZero()
	if err := strictjson.Unmarshal(data, v); err != nil {
		return nil, err
	}
	return unknownFields(data, reflect.TypeOf(v).Elem()), nil
}

// unknownFields returns the JSON paths in data (one JSON value) that t,
// the Go type it is decoded into, has no field for, sorted. data must
// already decode into t. Raw JSON (json.RawMessage: a host's facts, a
// step's arguments) is opaque: anything goes inside it.
func unknownFields(data []byte, t reflect.Type) []string {
	var v any
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	if d.Decode(&v) != nil {
		return nil
	}
	w := walker{fields: map[reflect.Type]map[string]reflect.Type{}}
	w.walk(v, t, "")
	sort.Strings(w.out)
	return w.out
}

// walker collects the unknown paths of one value.
type walker struct {
	fields map[reflect.Type]map[string]reflect.Type // strictjson.Fields, by struct type
	out    []string
}

var rawMessageType = reflect.TypeOf(json.RawMessage(nil))

func (w *walker) walk(v any, t reflect.Type, path string) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == rawMessageType {
		return
	}
	switch t.Kind() {
	case reflect.Struct:
		obj, ok := v.(map[string]any)
		if !ok {
			return // time.Time and the like: a string, decoded by the type
		}
		fields, ok := w.fields[t]
		if !ok {
			fields = strictjson.Fields(t)
			w.fields[t] = fields
		}
		for k, fv := range obj {
			ft, ok := strictjson.Lookup(fields, k)
			if !ok {
				w.out = append(w.out, joinPath(path, k))
				continue
			}
			w.walk(fv, ft, joinPath(path, k))
		}
	case reflect.Map:
		if obj, ok := v.(map[string]any); ok {
			for k, ev := range obj {
				w.walk(ev, t.Elem(), path+"["+strconv.Quote(k)+"]")
			}
		}
	case reflect.Slice, reflect.Array:
		if arr, ok := v.([]any); ok {
			for i, ev := range arr {
				w.walk(ev, t.Elem(), path+"["+strconv.Itoa(i)+"]")
			}
		}
	}
}

func joinPath(path, k string) string {
	if path == "" {
		return k
	}
	return path + "." + k
}
