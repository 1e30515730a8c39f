package state

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"
)

// appendInstanceRecord appends the journal line of an instance put: the
// bytes encoding/json writes for Record, without its reflection. A 100,000
// instance apply writes 100,000 of these lines; through encoding/json they
// were a tenth of the apply's CPU. jsonline_test.go holds the two encodings
// equal.
func appendInstanceRecord(b []byte, key string, in *Instance) ([]byte, error) {
	var err error
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
		if b, err = appendRaw(b, in.Args); err != nil {
			return nil, err
		}
	}
	b = append(b, `,"status":`...)
	b = AppendJSONString(b, in.Status)
	if len(in.Outputs) > 0 {
		b = append(b, `,"outputs":{`...)
		for i, k := range sortedKeys(in.Outputs) {
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
	if in.SucceededOn != "" {
		b = append(b, `,"succeeded_on":`...)
		b = AppendJSONString(b, in.SucceededOn)
	}
	b = append(b, `,"started":`...)
	if b, err = appendTime(b, in.Started); err != nil {
		return nil, err
	}
	b = append(b, `,"finished":`...)
	if b, err = appendTime(b, in.Finished); err != nil {
		return nil, err
	}
	if in.Error != "" {
		b = append(b, `,"error":`...)
		b = AppendJSONString(b, in.Error)
	}
	if in.Pending != "" {
		b = append(b, `,"pending":`...)
		b = AppendJSONString(b, in.Pending)
	}
	return append(b, "}}\n"...), nil
}

// appendHostRecord appends the journal line of a host put, as
// encoding/json writes it for Record (every launch records its host once,
// and again when its key is pinned).
func appendHostRecord(b []byte, h *Host) ([]byte, error) {
	b = append(b, `{"kind":"host","key":`...)
	b = AppendJSONString(b, h.Name)
	b = append(b, `,"host":{"name":`...)
	b = AppendJSONString(b, h.Name)
	b = append(b, `,"group":`...)
	b = AppendJSONString(b, h.Group)
	b = append(b, `,"index":`...)
	b = strconv.AppendInt(b, int64(h.Index), 10)
	b = append(b, `,"provider":`...)
	b = AppendJSONString(b, h.Provider)
	b = append(b, `,"provider_id":`...)
	b = AppendJSONString(b, h.ProviderID)
	if h.PrivateIP != "" {
		b = append(b, `,"private_ip":`...)
		b = AppendJSONString(b, h.PrivateIP)
	}
	if h.PublicIP != "" {
		b = append(b, `,"public_ip":`...)
		b = AppendJSONString(b, h.PublicIP)
	}
	b = append(b, `,"ssh":`...)
	b = appendSSH(b, &h.SSH)
	if len(h.Volumes) > 0 {
		b = append(b, `,"volumes":{`...)
		for i, k := range sortedKeys(h.Volumes) {
			if i > 0 {
				b = append(b, ',')
			}
			v := h.Volumes[k]
			b = AppendJSONString(b, k)
			b = append(b, `:{"device":`...)
			b = AppendJSONString(b, v.Device)
			if v.ProviderID != "" {
				b = append(b, `,"provider_id":`...)
				b = AppendJSONString(b, v.ProviderID)
			}
			b = append(b, `,"size_gb":`...)
			b = strconv.AppendInt(b, int64(v.SizeGB), 10)
			b = append(b, '}')
		}
		b = append(b, '}')
	}
	if len(h.Attrs) > 0 {
		b = append(b, `,"attrs":{`...)
		for i, k := range sortedKeys(h.Attrs) {
			if i > 0 {
				b = append(b, ',')
			}
			b = AppendJSONString(b, k)
			b = append(b, ':')
			b = AppendJSONString(b, h.Attrs[k])
		}
		b = append(b, '}')
	}
	b = append(b, `,"digest":`...)
	b = AppendJSONString(b, h.Digest)
	b = append(b, `,"launched":`...)
	b, err := appendTime(b, h.Launched)
	if err != nil {
		return nil, err
	}
	if len(h.Facts) > 0 {
		b = append(b, `,"facts":`...)
		var buf bytes.Buffer
		if err := json.Compact(&buf, h.Facts); err != nil {
			return nil, fmt.Errorf("facts of host %s: %w", h.Name, err)
		}
		var esc bytes.Buffer
		json.HTMLEscape(&esc, buf.Bytes()) // as encoding/json writes a RawMessage
		b = append(b, esc.Bytes()...)
	}
	return append(b, "}}\n"...), nil
}

func appendSSH(b []byte, s *SSH) []byte {
	b = append(b, `{"address":`...)
	b = AppendJSONString(b, s.Address)
	b = append(b, `,"port":`...)
	b = strconv.AppendInt(b, int64(s.Port), 10)
	b = append(b, `,"user":`...)
	b = AppendJSONString(b, s.User)
	if s.KeyFile != "" {
		b = append(b, `,"key_file":`...)
		b = AppendJSONString(b, s.KeyFile)
	}
	if len(s.IdentityFiles) > 0 {
		b = append(b, `,"identity_files":[`...)
		for i, f := range s.IdentityFiles {
			if i > 0 {
				b = append(b, ',')
			}
			b = AppendJSONString(b, f)
		}
		b = append(b, ']')
	}
	if s.HostKey != "" {
		b = append(b, `,"host_key":`...)
		b = AppendJSONString(b, s.HostKey)
	}
	if s.Jump != nil {
		b = append(b, `,"jump":`...)
		b = appendSSH(b, s.Jump)
	}
	return append(b, '}')
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
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

// appendTime appends t as encoding/json does (RFC 3339 with nanoseconds),
// and refuses the years it refuses.
func appendTime(b []byte, t time.Time) ([]byte, error) {
	if y := t.Year(); y < 0 || y >= 10000 {
		return nil, fmt.Errorf("time %v: year outside of range [0,9999]", t)
	}
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"'), nil
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
