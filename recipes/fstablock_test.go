package recipes

import (
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// fstabWrite matches shell text that changes /etc/fstab: an in-place sed,
// a redirection into it, or a tool that replaces it.
var fstabWrite = regexp.MustCompile(`sed\s+-i[^\n]*/etc/fstab|>>?\s*/etc/fstab|\b(mv|cp|tee|install)\b[^\n]*/etc/fstab`)

// TestFstabWritesTakeTheLock: a built-in recipe command that changes
// /etc/fstab itself (a run step or a destroy command, where the mount kind
// does not fit) holds the lock every diffuser fstab edit takes
// (/run/lock/diffuser-fstab.lock, steps/fstab.go), so that a line the
// mount kind of this or another workspace, or a cooperating tool, writes
// at the same moment is not lost (moosefs's client mount edited it
// without the lock).
func TestFstabWritesTakeTheLock(t *testing.T) {
	var writers int
	eachStep(t, func(name string, src []byte, b *hclsyntax.Block) {
		for n, a := range b.Body.Attributes {
			if !commandAttrs[n] {
				continue
			}
			text := string(a.Expr.Range().SliceBytes(src))
			if !fstabWrite.MatchString(text) {
				continue
			}
			writers++
			// The flock itself may come from a local (moosefs's
			// fstab_lock); engine TestMoosefsClientFstabKeepsPeersLines
			// runs the command for real.
			if !strings.Contains(text, "9>>/run/lock/diffuser-fstab.lock") {
				t.Errorf("%s:%d: step %q's %s changes /etc/fstab without holding /run/lock/diffuser-fstab.lock (a subshell with 9>>/run/lock/diffuser-fstab.lock that takes flock 9 first)",
					name, a.SrcRange.Start.Line, b.Labels[0], n)
			}
		}
	})
	if writers == 0 {
		t.Fatal("no command writes /etc/fstab: the walk or the pattern is broken (moosefs's client mount does)")
	}
}
