package docker

import (
	"context"
	"strings"
	"testing"

	"diffuser/cloud"
)

// TestImportRefusesHostileIDs: what diffuser import is given as a
// container id becomes part of an Engine API path; anything that is not
// an id or a name is refused before the Engine is asked (the provider
// here has no client: a call would panic).
func TestImportRefusesHostileIDs(t *testing.T) {
	p := &Provider{env: cloud.Env{Keys: cloud.Keys{PublicKey: "ssh-ed25519 AAAA diffuser"}}}
	spec := cloud.HostSpec{Cluster: "w-abc123", Group: "server", Index: 0, Name: "server[0]"}
	for _, id := range []string{"", " ", "../../images/x", "a/b", "a b", "-a", ".a", "$(id)", "a\nb", "a?x=1", "a#b", strings.Repeat("a", 300)} {
		_, err := p.Import(context.Background(), spec, id)
		if err == nil || !strings.Contains(err.Error(), "is not a container id or name") {
			t.Errorf("Import(%q): %v", id, err)
		}
	}
}
