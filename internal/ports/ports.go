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
// [what]", PROTO tcp or udp, each at most once, e.g. "111/tcp+udp
// portmapper". One Range per protocol. A word of what that reads as an
// entry itself ("111/tcp 111/udp portmapper") is refused: it would be
// taken for the description, its port left closed.
func Parse(entries []string) ([]Range, error) {
	var out []Range
	for _, e := range entries {
		f := strings.Fields(e)
		if len(f) == 0 {
			return nil, fmt.Errorf("ports: empty entry: want \"PORT[-PORT]/tcp|udp [what]\"")
		}
		from, to, protos, err := spec(f[0])
		if err != nil {
			return nil, fmt.Errorf("ports: %q: %v", e, err)
		}
		for _, w := range f[1:] {
			if w = strings.Trim(w, ",;()[]"); strings.Contains(w, "/") {
				if _, _, _, err := spec(w); err == nil {
					return nil, fmt.Errorf("ports: %q: %q is a second port entry, which would be read as the description of the first and left closed: "+
						"write one entry per port range (tcp+udp for both protocols)", e, w)
				}
			}
		}
		for _, p := range protos {
			out = append(out, Range{Protocol: p, From: from, To: to, What: strings.Join(f[1:], " ")})
		}
	}
	return out, nil
}

// spec reads "PORT[-PORT]/PROTO[+PROTO]".
func spec(s string) (from, to int, protos []string, err error) {
	rng, ps, ok := strings.Cut(s, "/")
	if !ok {
		return 0, 0, nil, fmt.Errorf("want \"PORT[-PORT]/tcp|udp [what]\", such as \"24007-24008/tcp glusterd\"")
	}
	lo, hi, isRange := strings.Cut(rng, "-")
	if !isRange {
		hi = lo
	}
	from, ok1 := number(lo)
	to, ok2 := number(hi)
	if !ok1 || !ok2 || from > to {
		return 0, 0, nil, fmt.Errorf("%q is not a port or a range of ports (1-65535)", rng)
	}
	protos = strings.Split(ps, "+")
	for i, p := range protos {
		switch {
		case p != "tcp" && p != "udp":
			return 0, 0, nil, fmt.Errorf("protocol %q: want tcp, udp or tcp+udp", p)
		case i > 0 && protos[0] == p || i > 1:
			return 0, 0, nil, fmt.Errorf("protocol %q named twice: want tcp, udp or tcp+udp", p)
		}
	}
	return from, to, protos, nil
}

// number reads a port: digits only, 1 to 65535.
func number(s string) (int, bool) {
	if s == "" || strings.TrimLeft(s, "0123456789") != "" {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	return n, err == nil && n >= 1 && n <= 65535
}
