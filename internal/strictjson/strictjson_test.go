package strictjson

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

type inner struct {
	Port int    `json:"port"`
	User string `json:"user"`
}

type outer struct {
	Hosts map[string]*inner `json:"hosts"`
	Args  json.RawMessage   `json:"args"`
	List  []inner           `json:"list"`
	Any   any               `json:"any"`
	In    inner             `json:"in"`
	When  time.Time         `json:"when"`
}

func TestCheck(t *testing.T) {
	many := `{"hosts":{`
	for i := range 40 {
		many += fmt.Sprintf(`"h%d":{},`, i)
	}
	for _, c := range []struct {
		name, data string
		path       string // "" for accepted
		offset     int
	}{
		{"clean", `{"hosts":{"a":{"port":1,"user":"u"}},"args":{"x":[1,{"y":2}]},"list":[{"port":2}]}`, "", 0},
		{"top-level twice", `{"hosts":{"a":{}}, "hosts":{}}`, "hosts", 19},
		{"field case twice", `{"hosts":{}, "Hosts":{}}`, "hosts", 13},
		{"field case alone", `{"HOSTS":{"a":{"PORT":1}}}`, "", 0},
		{"map key case is another key", `{"hosts":{"a":{},"A":{}}}`, "", 0},
		{"map key twice", `{"hosts":{"a":{},"a":{}}}`, `hosts["a"]`, 17},
		{"escaped map key twice", `{"hosts":{"a":{},"\u0061":{}}}`, `hosts["a"]`, 17},
		{"nested field twice", `{"hosts":{"a":{"port":1,"port":2}}}`, `hosts["a"].port`, 24},
		{"nested field case", `{"hosts":{"a":{"port":1,"Port":2}}}`, `hosts["a"].port`, 24},
		{"inside raw", `{"args":{"x":{"y":1,"y":2}}}`, `args["x"]["y"]`, 20},
		{"raw keys are case-sensitive", `{"args":{"y":1,"Y":2}}`, "", 0},
		{"in a slice", `{"list":[{"port":1},{"user":"a","user":"b"}]}`, `list[1].user`, 32},
		{"unknown field twice", `{"colour":1,"colour":2}`, "colour", 12},
		{"in any", `{"any":[{"k":1,"k":2}]}`, `any[0]["k"]`, 15},
		{"large object", many + `"h7":{}}}`, `hosts["h7"]`, len(many)},
		{"large object, escaped key", many + `"h\u0037":{}}}`, `hosts["h7"]`, len(many)},
		{"large object, distinct keys", many + `"h77":{}}}`, "", 0},
		{"invalid utf-8", "{\"hosts\":{\"a\":{\"user\":\"\xff\"}}}", `hosts["a"].user`, 22},
		{"invalid utf-8 key", "{\"hosts\":{\"\xfe\":{}}}", `hosts`, 10},
		{"null struct", `{"in":null}`, "in", 6},
		{"null number", `{"list":[{"port":null}]}`, "list[0].port", 17},
		{"null string", `{"hosts":{"a":{"user":null}}}`, `hosts["a"].user`, 22},
		{"null time", `{"when":null}`, "when", 8},
		{"null map, pointer, raw, any, slice, unknown", `{"hosts":{"a":null},"args":null,"any":null,"list":null,"colour":null}`, "", 0},
		{"null hosts", `{"hosts":null}`, "", 0},
		{"valid utf-8", `{"hosts":{"ä":{"user":"é"}}}`, "", 0},
		{"lone high surrogate", `{"hosts":{"a":{"user":"x\ud800"}}}`, `hosts["a"].user`, 24},
		{"lone low surrogate", `{"hosts":{"a":{"user":"\udc00"}}}`, `hosts["a"].user`, 23},
		{"high surrogate before another escape", `{"hosts":{"a":{"user":"\ud800\u0041"}}}`, `hosts["a"].user`, 23},
		{"lone surrogate in a key", `{"hosts":{"\uD800":{}}}`, `hosts`, 11},
		{"surrogate pair", `{"hosts":{"a":{"user":"\ud83d\ude00 \u00e9"}}}`, "", 0},
		{"escaped backslash before u", `{"hosts":{"a":{"user":"\\ud800"}}}`, "", 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			var v outer
			data := []byte(c.data)
			if err := json.Unmarshal(data, &v); err != nil {
				t.Fatalf("test data does not decode: %v", err)
			}
			err := Check(data, reflect.TypeOf(&v))
			if c.path == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("accepted (err %v), want refused at %s", err, c.path)
			}
			if e.Path != c.path || e.Offset != c.offset {
				t.Fatalf("refused at %s, byte %d, want %s, byte %d: %v", e.Path, e.Offset, c.path, c.offset, err)
			}
			t.Log(err)
		})
	}
}

func TestUnmarshal(t *testing.T) {
	var v outer
	err := Unmarshal([]byte(`{"list":[],"list":null}`), &v)
	if err == nil || !strings.Contains(err.Error(), `list: the key "list" is given twice`) {
		t.Fatalf("got %v", err)
	}
	if err := Unmarshal([]byte(`{"list":[}`), &v); err == nil {
		t.Fatal("bad JSON accepted")
	}
}

// TestUnescapeSimple: the fast path reads escaped keys as encoding/json
// does, and leaves to it what it does not handle.
func TestUnescapeSimple(t *testing.T) {
	for _, raw := range []string{`step.x[\"server[0]\"]`, `a\\b\/c\n\t\r\b\f`, `\u0041`, `é\"`, "\xff\\\"", `\`} {
		got, ok := unescapeSimple([]byte(raw))
		var want string
		err := json.Unmarshal([]byte(`"`+raw+`"`), &want)
		if ok && (err != nil || got != want) {
			t.Errorf("%q: read %q, encoding/json reads %q (%v)", raw, got, want, err)
		}
		if !ok && strings.HasPrefix(raw, "step") {
			t.Errorf("%q: not handled", raw)
		}
		if st := (strText{raw: []byte(raw)}); err == nil && st.text() != want {
			t.Errorf("%q: text %q, want %q", raw, st.text(), want)
		}
	}
}

// TestInFile: a strictjson error is placed at its line and column in the
// file; any other error is prefixed with the file alone.
func TestInFile(t *testing.T) {
	data := []byte("{\n  \"a\": 1,\n  \"a\": 2\n}")
	var v map[string]int
	err := Unmarshal(data, &v)
	if got, want := InFile("f.json", data, err).Error(), `f.json:3:3: ["a"]: the key "a" is given twice`; !strings.HasPrefix(got, want) {
		t.Errorf("got %q, want it to start with %q", got, want)
	}
	if got := InFile("f.json", data, errors.New("torn")).Error(); got != "f.json: torn" {
		t.Errorf("got %q", got)
	}
}
