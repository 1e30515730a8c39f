package engine

import (
	"diffuser/lang"

	"fmt"
	"strconv"
	"strings"
)

// AddrKind says what a state address names.
type AddrKind uint8

const (
	AddrHost     AddrKind = iota // a host: server[1], or launch["server[1]"]
	AddrStep                     // every instance of a step: step.x
	AddrInstance                 // one step instance: step.x["server[1]"]
	AddrModule                   // every step of a module: module.data
)

func (k AddrKind) String() string {
	return [...]string{"host", "step", "step instance", "module"}[k]
}

// Address is a parsed address of something state records, as the state
// commands and import take it.
type Address struct {
	Kind  AddrKind
	Step  string // AddrStep, AddrInstance: lang.Step.Name; AddrModule: module.data
	Host  string // AddrHost, AddrInstance: "server[1]"
	Group string // AddrHost, AddrInstance: "server"
	Index int    // AddrHost, AddrInstance: 1
}

// String is the address in the form state list prints: server[1],
// step.x, step.x["server[1]"].
func (a Address) String() string {
	switch a.Kind {
	case AddrStep:
		return lang.StepAddr(a.Step)
	case AddrInstance:
		return InstanceAddr(a.Step, a.Host)
	case AddrModule:
		return a.Step
	}
	return a.Host
}

// ParseAddress reads a host (server[1] or launch["server[1]"]), a step
// (step.x) or a step instance (step.x["server[1]"]). The error says which
// forms exist.
func ParseAddress(s string) (Address, error) {
	bad := func(why string) (Address, error) {
		return Address{}, fmt.Errorf("%q is not an address (%s): use a host (server[1]), a step (step.NAME) or a step instance (step.NAME[\"server[1]\"])", s, why)
	}
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "module.") {
		return parseModuleAddress(s, bad)
	}
	if rest, ok := strings.CutPrefix(s, "launch["); ok {
		host, ok := strings.CutSuffix(rest, "]")
		if !ok {
			return bad("launch[ without its closing ]")
		}
		name, err := strconv.Unquote(host)
		if err != nil {
			return bad(`launch takes a quoted host name, launch["server[1]"]`)
		}
		s = name
		g, i, ok := parseHostName(s)
		if !ok {
			return bad("the host name is GROUP[INDEX]")
		}
		return Address{Kind: AddrHost, Host: s, Group: g, Index: i}, nil
	}
	if rest, ok := strings.CutPrefix(s, "step."); ok {
		name, key, hasKey := strings.Cut(rest, "[")
		if !isIdent(name) {
			return bad("a step name is letters, digits, '_' and '-', starting with a letter or '_'")
		}
		if !hasKey {
			return Address{Kind: AddrStep, Step: name}, nil
		}
		key, ok := strings.CutSuffix(key, "]")
		if !ok {
			return bad("step." + name + "[ without its closing ]")
		}
		host, err := strconv.Unquote(key)
		if err != nil {
			return bad(`the host of a step instance is quoted: step.NAME["server[1]"] (mind the shell: put the address in single quotes)`)
		}
		g, i, ok := parseHostName(host)
		if !ok {
			return bad("the host name is GROUP[INDEX]")
		}
		return Address{Kind: AddrInstance, Step: name, Host: host, Group: g, Index: i}, nil
	}
	g, i, ok := parseHostName(s)
	if !ok {
		return bad("neither a host GROUP[INDEX] nor step.NAME")
	}
	return Address{Kind: AddrHost, Host: s, Group: g, Index: i}, nil
}

// parseHostName splits "server[1]".
func parseHostName(s string) (group string, index int, ok bool) {
	g, rest, found := strings.Cut(s, "[")
	if !found || !isIdent(g) {
		return "", 0, false
	}
	num, found := strings.CutSuffix(rest, "]")
	if !found || num == "" || len(num) > 9 || (len(num) > 1 && num[0] == '0') {
		return "", 0, false
	}
	for _, c := range num {
		if c < '0' || c > '9' {
			return "", 0, false
		}
	}
	i, _ := strconv.Atoi(num)
	return g, i, true
}

// isIdent reports whether s is an HCL identifier as recipes name steps
// and groups.
func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		switch {
		case c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
		case i > 0 && (c == '-' || c >= '0' && c <= '9'):
		default:
			return false
		}
	}
	return true
}

// parseModuleAddress reads module.a, module.a.module.b,
// module.a.step.x and module.a.step.x["server[1]"].
func parseModuleAddress(s string, bad func(string) (Address, error)) (Address, error) {
	path, key, hasKey := strings.Cut(s, "[")
	parts := strings.Split(path, ".")
	i := 0
	for i+1 < len(parts) && parts[i] == "module" {
		if !isIdent(parts[i+1]) {
			return bad("a module name is letters, digits, '_' and '-', starting with a letter or '_'")
		}
		i += 2
	}
	if i == len(parts) {
		if hasKey {
			return bad("a module has no instance key: module.NAME, or module.NAME.step.STEP[\"server[1]\"]")
		}
		return Address{Kind: AddrModule, Step: path}, nil
	}
	if i+2 != len(parts) || parts[i] != "step" || !isIdent(parts[i+1]) {
		return bad("a module address is module.NAME[.module.NAME…][.step.STEP]")
	}
	if !hasKey {
		return Address{Kind: AddrStep, Step: path}, nil
	}
	key, ok := strings.CutSuffix(key, "]")
	if !ok {
		return bad(path + "[ without its closing ]")
	}
	host, err := strconv.Unquote(key)
	if err != nil {
		return bad(`the host of a step instance is quoted: module.M.step.NAME["server[1]"] (mind the shell: put the address in single quotes)`)
	}
	g, i2, ok := parseHostName(host)
	if !ok {
		return bad("the host name is GROUP[INDEX]")
	}
	return Address{Kind: AddrInstance, Step: path, Host: host, Group: g, Index: i2}, nil
}
