package state

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"time"
	"unicode/utf8"
)

// appendInstanceRecord appends the journal line of an instance put: the
// bytes encoding/json writes for Record, without its reflection. A 100,000
// instance apply writes 100,000 of these lines; through encoding/json they
// were a tenth of the apply's CPU. jsonline_test.go holds the two encodings
// equal.
func appendInstanceRecord(b []byte, key string, in *Instance) ([]byte, error) {
	b = append(b, `{"kind":"instance","key":`...)
	b = AppendJSONString(b, key)
	b = append(b, `,"instance":{"step":`...)
	b = AppendJSONString(b, in.Step)
	b = append(b, `,"host":`...)
	b = AppendJSONString(b, in.Host)
	b = append(b, `,"kind":`...)
	b = AppendJSONString(b, in.Kind)
	b = append(b, `,"digest":`...)
	b = AppendJSONString(b, in.Digest)
	if len(in.Args) > 0 {
		b = append(b, `,"args":`...)
		var err error
		if b, err = appendRaw(b, in.Args); err != nil {
			return nil, err
		}
	}
	b = append(b, `,"status":`...)
	b = AppendJSONString(b, in.Status)
	if len(in.Outputs) > 0 {
		b = append(b, `,"outputs":{`...)
		keys := make([]string, 0, len(in.Outputs))
		for k := range in.Outputs {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = AppendJSONString(b, k)
			b = append(b, ':')
			b = AppendJSONString(b, in.Outputs[k])
		}
		b = append(b, '}')
	}
	if in.Sensitive {
		b = append(b, `,"sensitive":true`...)
	}
	if in.Destroy != "" {
		b = append(b, `,"destroy":`...)
		b = AppendJSONString(b, in.Destroy)
	}
	b = append(b, `,"started":`...)
	b = appendTime(b, in.Started)
	b = append(b, `,"finished":`...)
	b = appendTime(b, in.Finished)
	if in.Error != "" {
		b = append(b, `,"error":`...)
		b = AppendJSONString(b, in.Error)
	}
	return append(b, "}}\n"...), nil
}

// appendRaw appends already encoded JSON as encoding/json does for a
// json.RawMessage: compacted, with <, > and & escaped. What the engine
// hands over is already in that form and is copied as it is.
func appendRaw(b []byte, raw []byte) ([]byte, error) {
	if isCompactEscaped(raw) && json.Valid(raw) {
		return append(b, raw...), nil
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		return nil, fmt.Errorf("arguments are not JSON: %w", err)
	}
	var esc bytes.Buffer
	json.HTMLEscape(&esc, buf.Bytes())
	return append(b, esc.Bytes()...), nil
}

// isCompactEscaped reports whether raw has no whitespace outside strings
// and nothing encoding/json would escape (<, >, &, U+2028, U+2029), in one
// pass. It may say false for some JSON that is fine: that only costs the
// slow path.
func isCompactEscaped(raw []byte) bool {
	inStr, esc := false, false
	for i, c := range raw {
		switch c {
		case '<', '>', '&':
			return false
		case 0xE2: // U+2028 and U+2029 are E2 80 A8 and E2 80 A9
			if i+2 < len(raw) && raw[i+1] == 0x80 && (raw[i+2] == 0xA8 || raw[i+2] == 0xA9) {
				return false
			}
		}
		switch {
		case inStr:
			switch {
			case esc:
				esc = false
			case c == '\\':
				esc = true
			case c == '"':
				inStr = false
			}
		case c == '"':
			inStr = true
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			return false
		}
	}
	return true
}

func appendTime(b []byte, t time.Time) []byte {
	if y := t.Year(); y < 0 || y >= 10000 {
		// encoding/json refuses these; the zero time and real times are fine.
		v, _ := json.Marshal(t)
		return append(b, v...)
	}
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"')
}

const hexDigits = "0123456789abcdef"

// AppendJSONString appends s as a JSON string, escaped byte for byte as
// encoding/json escapes it (HTML characters, U+2028 and U+2029 included;
// invalid UTF-8 becomes U+FFFD).
func AppendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
