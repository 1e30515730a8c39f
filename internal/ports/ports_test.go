package ports

import (
	"fmt"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	got, err := Parse([]string{"22/tcp ssh", "111/tcp+udp portmapper (NFSv3)", "24007-24008/tcp glusterd", "  6800-7300/tcp   osd, mgr  "})
	if err != nil {
		t.Fatal(err)
	}
	var s []string
	for _, p := range got {
		s = append(s, fmt.Sprintf("%s %d-%d %s", p.Protocol, p.From, p.To, p.What))
	}
	want := "tcp 22-22 ssh|tcp 111-111 portmapper (NFSv3)|udp 111-111 portmapper (NFSv3)|tcp 24007-24008 glusterd|tcp 6800-7300 osd, mgr"
	if strings.Join(s, "|") != want {
		t.Errorf("got  %s\nwant %s", strings.Join(s, "|"), want)
	}
	for _, bad := range []string{"", "   ", "22", "22/icmp", "22/tcp+", "0/tcp", "65536/tcp", "10-5/tcp", "a-b/tcp", "22-/tcp",
		"-22/tcp", "22/TCP", "22/tcp;rm -rf /", "1e3/tcp", "+22/tcp", "22/ tcp",
		// A protocol twice is a typo of tcp+udp; a second port in the
		// what would be taken for its description, and left closed.
		"111/tcp+tcp portmapper", "111/udp+tcp+udp", "111/tcp 111/udp portmapper", "22/tcp\n2049/tcp nfs", "2049/tcp nfs, 20048-20049/udp mountd"} {
		if _, err := Parse([]string{bad}); err == nil {
			t.Errorf("%q: no error", bad)
		} else if !strings.Contains(err.Error(), "ports") {
			t.Errorf("%q: error %v does not name ports", bad, err)
		}
	}
	if got, err := Parse(nil); err != nil || len(got) != 0 {
		t.Errorf("no ports: %v %v", got, err)
	}
}
