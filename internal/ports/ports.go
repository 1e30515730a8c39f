package ports

import (
	"fmt"
	"strconv"
	"strings"
)

// Range is one entry of a recipe's `ports` for one protocol:
// "24007-24008/tcp glusterd".
type Range struct {
	Protocol string // tcp or udp
	From, To int
	What     string // the rest of the entry, e.g. glusterd
}

// Parse reads a recipe's `ports` entries: "PORT[-PORT]/PROTO[+PROTO]
// [what]", PROTO tcp or udp, e.g. "111/tcp+udp portmapper". One Range per
// protocol.
func Parse(entries []string) ([]Range, error) {
	var out []Range
	for _, e := range entries {
		f := strings.Fields(e)
		if len(f) == 0 {
			return nil, fmt.Errorf("ports: empty entry: want \"PORT[-PORT]/tcp|udp [what]\"")
		}
		rng, protos, ok := strings.Cut(f[0], "/")
		if !ok {
			return nil, fmt.Errorf("ports: %q: want \"PORT[-PORT]/tcp|udp [what]\", such as \"24007-24008/tcp glusterd\"", e)
		}
		lo, hi, isRange := strings.Cut(rng, "-")
		if !isRange {
			hi = lo
		}
		from, ok1 := number(lo)
		to, ok2 := number(hi)
		if !ok1 || !ok2 || from > to {
			return nil, fmt.Errorf("ports: %q: %q is not a port or a range of ports (1-65535)", e, rng)
		}
		for _, p := range strings.Split(protos, "+") {
			if p != "tcp" && p != "udp" {
				return nil, fmt.Errorf("ports: %q: protocol %q: want tcp, udp or tcp+udp", e, p)
			}
			out = append(out, Range{Protocol: p, From: from, To: to, What: strings.Join(f[1:], " ")})
		}
	}
	return out, nil
}

// number reads a port: digits only, 1 to 65535.
func number(s string) (int, bool) {
	if s == "" || strings.TrimLeft(s, "0123456789") != "" {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	return n, err == nil && n >= 1 && n <= 65535
}
