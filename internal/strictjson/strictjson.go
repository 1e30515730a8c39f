// Package strictjson refuses what encoding/json accepts without a word in
// files diffuser reads back: an object key given twice (the decoder keeps
// the last value, `"serial"` twice, or merges two objects into one map or
// struct, so `"hosts"` twice gives a host named in both the second one's
// fields, and `"hosts": {...}, "hosts": null` no hosts at all), two keys that name one struct field in different
// cases (`"hosts"` beside `"Hosts"`: encoding/json matches field names
// regardless of case, so it is the same duplicate), strings that are not
// valid UTF-8 or escape a lone UTF-16 surrogate ("\ud800": the decoder
// replaces either with U+FFFD, so what is read is not what was written),
// and null for a struct, string, number or
// bool (the decoder leaves the zero value: `"ssh": null` reads as a host
// with no address). A field name in another case alone is read as that
// field, as encoding/json reads it.
//
// Check runs over data that already decoded into its type: it assumes
// valid JSON and costs one pass over the bytes, allocating nothing for an
// object of a few keys.
package strictjson

import (
	"bytes"
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"hash/maphash"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Error is a value Check refuses: where it is (Path, a JSON path such as
// hosts["server[0]"].ssh.port; Offset, the byte offset of the key or
// string in the data) and what is wrong.
type Error struct {
	Path   string
	Offset int
	Msg    string
}

func (e *Error) Error() string {
	if e.Path == "" {
		return e.Msg
	}
	return e.Path + ": " + e.Msg
}

// Position converts a byte offset in data into a 1-based line and column,
// the column counted in characters.
func Position(data []byte, off int) (line, col int) {
	off = max(0, min(off, len(data)))
	prefix := data[:off]
	line = 1 + bytes.Count(prefix, []byte{'\n'})
	start := bytes.LastIndexByte(prefix, '\n') + 1
	return line, 1 + utf8.RuneCount(prefix[start:])
}

// Locate prefixes err with line:column in data when it is an *Error.
func Locate(data []byte, err error) error {
	var e *Error
	if !errors.As(err, &e) {
		return err
	}
	line, col := Position(data, e.Offset)
	return fmt.Errorf("%d:%d: %w", line, col, err)
}

// InFile prefixes err with file, and with line:column in data when it is
// an *Error: "run.json:1:46: status: the key ...", else "run.json: ...".
func InFile(file string, data []byte, err error) error {
	if located := Locate(data, err); located != err {
		return fmt.Errorf("%s:%w", file, located)
	}
	return fmt.Errorf("%s: %w", file, err)
}

// Unmarshal is json.Unmarshal followed by Check.
func Unmarshal(data []byte, v any) error {
	if err := json.Unmarshal(data, v); err != nil {
		return err
	}
	return Check(data, reflect.TypeOf(v))
}

// Check returns an *Error for the first key in data that repeats an
// earlier key of its object, or names the same field of t (the Go type
// data is decoded into, nil for none) as an earlier key in another case,
// for the first string that is not valid UTF-8 and the first null where t
// has a struct, string, number or bool. data must be one
// valid JSON value (it decoded).
func Check(data []byte, t reflect.Type) error {
	c := checker{data: data, fields: map[reflect.Type]map[string]field{}, seed: maphash.MakeSeed()}
	c.skipSpace()
	err := c.value(t)
	if e, ok := err.(*Error); ok {
		e.Path = strings.TrimPrefix(e.Path, ".")
	}
	return err
}

// Fields maps the JSON names of the exported fields of struct type t to
// their types, as encoding/json names them (the tag's name, else the
// field's). Embedded structs are not flattened: no type read with it has
// them.
func Fields(t reflect.Type) map[string]reflect.Type {
	m := map[string]reflect.Type{}
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch name {
		case "-":
			continue
		case "":
			name = f.Name
		}
		m[name] = f.Type
	}
	return m
}

// Lookup finds the field a JSON key binds to in fields (by JSON name, as
// Fields gives them) as encoding/json does: the exact name first, else one
// equal regardless of case.
func Lookup[V any](fields map[string]V, k string) (V, bool) {
	if v, ok := fields[k]; ok {
		return v, true
	}
	for name, v := range fields {
		if strings.EqualFold(name, k) {
			return v, true
		}
	}
	var zero V
	return zero, false
}

var rawMessageType = reflect.TypeOf(json.RawMessage(nil))

// smallObject is the number of keys an object's keys are compared
// linearly up to; larger objects (a state's hosts and instances) get a
// map.
const smallObject = 16

type checker struct {
	data   []byte
	i      int
	keys   []key                             // the keys of the objects being read, innermost last
	fields map[reflect.Type]map[string]field // by struct type and JSON name
	seed   maphash.Seed
}

// field is one field of a struct type: its JSON name and type.
type field struct {
	name string
	t    reflect.Type
}

// structFields returns the fields of struct type t, by JSON name.
func (c *checker) structFields(t reflect.Type) map[string]field {
	if m, ok := c.fields[t]; ok {
		return m
	}
	m := map[string]field{}
	for name, ft := range Fields(t) {
		m[name] = field{name, ft}
	}
	c.fields[t] = m
	return m
}

// lookup is Lookup without copying s when it is written exactly as the
// field's name.
func lookup(fields map[string]field, s strText) (field, bool) {
	if s.plain {
		if f, ok := fields[string(s.raw)]; ok {
			return f, true
		}
	}
	return Lookup(fields, s.text())
}

// key is one key of an object: how it was written and where, and, when
// named, the name it is read as (a struct field's name; the text of an
// escaped key). An unnamed key is read as written.
type key struct {
	raw   []byte
	off   int
	name  string
	named bool
}

// eq says whether a decoder reads a and b as one key.
func (a key) eq(b key) bool {
	switch {
	case a.named && b.named:
		return a.name == b.name
	case a.named:
		return a.name == string(b.raw)
	case b.named:
		return b.name == string(a.raw)
	}
	return bytes.Equal(a.raw, b.raw)
}

func (a key) text() string {
	if a.named {
		return a.name
	}
	return string(a.raw)
}

func (c *checker) skipSpace() {
	for c.i < len(c.data) {
		switch c.data[c.i] {
		case ' ', '\t', '\n', '\r':
			c.i++
		default:
			return
		}
	}
}

// value reads the value at c.i (space skipped) decoded into t.
func (c *checker) value(t reflect.Type) error {
	if c.i >= len(c.data) {
		return nil
	}
	if c.data[c.i] == 'n' && !nullable(t) {
		return &Error{Offset: c.i, Msg: fmt.Sprintf("null where %s belongs: read as empty, what it held would be lost without a word (the file was edited or damaged)", describe(t))}
	}
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch c.data[c.i] {
	case '{':
		return c.object(t)
	case '[':
		return c.array(t)
	case '"':
		_, err := c.str()
		return err
	}
	for c.i < len(c.data) && !isDelim(c.data[c.i]) {
		c.i++
	}
	return nil
}

// nullable says whether null decodes into t as something other than
// the zero value silently left in place: a nil pointer, map or slice, an
// interface, raw JSON. (json.Unmarshal leaves a struct, string, number or
// bool as it was when it reads null.)
func nullable(t reflect.Type) bool {
	if t == nil || t == rawMessageType {
		return true
	}
	switch t.Kind() {
	case reflect.Pointer, reflect.Map, reflect.Slice, reflect.Interface:
		return true
	}
	return false
}

// describe names the JSON value t is written as.
func describe(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Array:
		return "an array"
	case reflect.Struct:
		if t.Implements(textUnmarshaler) || reflect.PointerTo(t).Implements(textUnmarshaler) {
			return "a string" // time.Time
		}
		return "an object"
	}
	return "a number"
}

var textUnmarshaler = reflect.TypeOf((*encoding.TextUnmarshaler)(nil)).Elem()

func isDelim(b byte) bool {
	return b == ',' || b == ']' || b == '}' || b == ' ' || b == '\t' || b == '\n' || b == '\r'
}

// str reads a string and returns it as written (without the quotes),
// and whether it is plain: read as written, without escapes.
func (c *checker) str() (strText, error) {
	start := c.i
	c.i++ // the quote
	s := strText{plain: true}
	for {
		j := bytes.IndexByte(c.data[c.i:], '"')
		if j < 0 {
			c.i = len(c.data)
			return s, nil // not valid JSON: the decoder said so first
		}
		end := c.i + j
		if bs := bytes.IndexByte(c.data[c.i:end], '\\'); bs >= 0 {
			// An escape: step over it and look for the closing quote
			// again.
			s.plain = false
			c.i += bs + 2
			continue
		}
		c.i = end + 1
		break
	}
	s.raw = c.data[start+1 : c.i-1]
	if !utf8.Valid(s.raw) {
		return s, &Error{Offset: start, Msg: "a string that is not valid UTF-8 (the file is damaged, or was written by something other than diffuser)"}
	}
	if !s.plain {
		if at := loneSurrogate(s.raw); at >= 0 {
			return s, &Error{Offset: start + 1 + at, Msg: fmt.Sprintf("a string with the escape %s, half of a UTF-16 surrogate pair without its other half: it is no character, a reader replaces it with U+FFFD, so what is read is not what was written (the file is damaged, or was written by something other than diffuser)", raw16(s.raw[at:]))}
		}
	}
	return s, nil
}

// loneSurrogate returns the offset in raw (a string's text between its
// quotes) of the first \uXXXX escape of a UTF-16 surrogate that is not
// one of a pair (a high one followed by an escaped low one), or -1.
// encoding/json reads such an escape as U+FFFD, as it reads invalid UTF-8.
func loneSurrogate(raw []byte) int {
	for i := 0; i < len(raw); i++ {
		if raw[i] != '\\' {
			continue
		}
		if i+1 < len(raw) && raw[i+1] != 'u' {
			i++ // a one-character escape: \\ must not start another
			continue
		}
		r, ok := hex4(raw, i)
		if !ok {
			continue
		}
		switch {
		case r >= 0xdc00 && r <= 0xdfff:
			return i
		case r >= 0xd800 && r <= 0xdbff:
			if lo, ok := hex4(raw, i+6); !ok || lo < 0xdc00 || lo > 0xdfff {
				return i
			}
			i += 11 // the pair
		default:
			i += 5
		}
	}
	return -1
}

// hex4 reads the \uXXXX escape at raw[i:].
func hex4(raw []byte, i int) (rune, bool) {
	if i+6 > len(raw) || raw[i] != '\\' || raw[i+1] != 'u' {
		return 0, false
	}
	n, err := strconv.ParseUint(string(raw[i+2:i+6]), 16, 16)
	return rune(n), err == nil
}

// raw16 is the \uXXXX escape at the start of raw, for a message.
func raw16(raw []byte) string { return string(raw[:min(6, len(raw))]) }

type strText struct {
	raw   []byte
	plain bool
}

// text is the string a decoder reads for s.
func (s strText) text() string {
	if s.plain {
		return string(s.raw)
	}
	if out, ok := unescapeSimple(s.raw); ok {
		return out
	}
	var out string
	q := make([]byte, 0, len(s.raw)+2)
	q = append(append(append(q, '"'), s.raw...), '"')
	_ = json.Unmarshal(q, &out)
	return out
}

// unescapeSimple unescapes raw when it is valid UTF-8 and its escapes are
// all of one character (\" \\ \/ \n ...: an instance address's quotes);
// ok is false for the rest (\u escapes), which Unmarshal reads.
func unescapeSimple(raw []byte) (string, bool) {
	if !utf8.Valid(raw) {
		return "", false
	}
	b := make([]byte, 0, len(raw))
	for i := 0; i < len(raw); i++ {
		if raw[i] != '\\' {
			b = append(b, raw[i])
			continue
		}
		i++
		if i == len(raw) {
			return "", false
		}
		switch e := raw[i]; e {
		case '"', '\\', '/':
			b = append(b, e)
		case 'n':
			b = append(b, '\n')
		case 't':
			b = append(b, '\t')
		case 'r':
			b = append(b, '\r')
		case 'b':
			b = append(b, '\b')
		case 'f':
			b = append(b, '\f')
		default:
			return "", false
		}
	}
	return string(b), true
}

func (c *checker) array(t reflect.Type) error {
	var elem reflect.Type
	if t != nil && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) && t != rawMessageType {
		elem = t.Elem()
	}
	c.i++ // [
	for n := 0; ; n++ {
		c.skipSpace()
		if c.i >= len(c.data) || c.data[c.i] == ']' {
			c.i++
			return nil
		}
		if err := c.value(elem); err != nil {
			return within(err, "["+strconv.Itoa(n)+"]")
		}
		c.skipSpace()
		if c.i < len(c.data) && c.data[c.i] == ',' {
			c.i++
		}
	}
}

func (c *checker) object(t reflect.Type) error {
	var fields map[string]field
	var elem reflect.Type
	if t != nil && t != rawMessageType {
		switch t.Kind() {
		case reflect.Struct:
			fields = c.structFields(t)
		case reflect.Map:
			elem = t.Elem()
		}
	}
	base := len(c.keys)
	defer func() { c.keys = c.keys[:base] }()
	var many map[uint64]int // index into c.keys by hash, once the object is large
	c.i++                   // {
	for {
		c.skipSpace()
		if c.i >= len(c.data) || c.data[c.i] == '}' {
			c.i++
			return nil
		}
		off := c.i
		s, err := c.str()
		if err != nil {
			return err
		}
		k := key{off: off, raw: s.raw}
		vt := elem
		if fields != nil {
			f, ok := lookup(fields, s)
			if !ok {
				f.name = s.text() // not a field: read by nothing, kept as written
			}
			k.name, k.named, vt = f.name, true, f.t
		} else if !s.plain {
			k.name, k.named = s.text(), true
		}
		if err := c.add(base, &many, k, fields != nil); err != nil {
			return err
		}
		c.skipSpace()
		c.i++ // :
		c.skipSpace()
		if err := c.value(vt); err != nil {
			return within(err, c.segment(k, fields != nil))
		}
		c.skipSpace()
		if c.i < len(c.data) && c.data[c.i] == ',' {
			c.i++
		}
	}
}

// add adds k to the keys of the object whose keys start at base, and
// refuses it if an earlier one is read as the same key. Past smallObject
// keys, the object's keys are found by their hash (many), so that a
// state's 10,000 instance addresses are not compared pairwise nor copied.
func (c *checker) add(base int, many *map[uint64]int, k key, field bool) error {
	prev := -1
	if *many != nil {
		if j, ok := (*many)[c.hash(k)]; ok {
			prev = j
			if !c.keys[j].eq(k) { // two keys of one hash: compare them all
				prev = c.find(base, k)
			}
		}
	} else {
		prev = c.find(base, k)
	}
	if prev >= 0 {
		return c.duplicate(c.keys[prev], k, field)
	}
	c.keys = append(c.keys, k)
	switch {
	case *many != nil:
		(*many)[c.hash(k)] = len(c.keys) - 1
	case len(c.keys)-base > smallObject:
		*many = make(map[uint64]int, 4*smallObject)
		for j := base; j < len(c.keys); j++ {
			(*many)[c.hash(c.keys[j])] = j
		}
	}
	return nil
}

// find returns the index of the key from base on that is read as k, or -1.
func (c *checker) find(base int, k key) int {
	for j := base; j < len(c.keys); j++ {
		if c.keys[j].eq(k) {
			return j
		}
	}
	return -1
}

func (c *checker) hash(k key) uint64 {
	if k.named {
		return maphash.String(c.seed, k.name)
	}
	return maphash.Bytes(c.seed, k.raw)
}

func (c *checker) duplicate(first, second key, field bool) error {
	msg := fmt.Sprintf("the key %s is given twice in one object (first at byte %d); a reader keeps one of the two values (or a mix of them), so the file is refused",
		quoteRaw(second.raw), first.off)
	if !bytes.Equal(first.raw, second.raw) {
		msg = fmt.Sprintf("the key %s names the same field as %s at byte %d (field names are read regardless of case, and a reader keeps one of the two values, or a mix of them); the file is refused",
			quoteRaw(second.raw), quoteRaw(first.raw), first.off)
	}
	return &Error{Path: c.segment(second, field), Offset: second.off, Msg: msg}
}

// segment is the path step of key k: .name for a struct field,
// ["key"] for a map key.
func (c *checker) segment(k key, field bool) string {
	if field {
		return "." + k.name
	}
	return "[" + strconv.Quote(k.text()) + "]"
}

func quoteRaw(raw []byte) string { return `"` + string(raw) + `"` }

// within prefixes the path of err (an *Error) with seg.
func within(err error, seg string) error {
	if e, ok := err.(*Error); ok {
		e.Path = seg + e.Path
	}
	return err
}
