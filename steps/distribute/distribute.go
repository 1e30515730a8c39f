package distribute

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path"
	"strconv"
	"strings"

	"diffuser/runner"
	"diffuser/steps"

	"github.com/zclconf/go-cty/cty"
)

// Kind delivers one (large) file to every host of a step.
//
// With mode = "relay" (the default) the operator's link carries the file
// about once: the operator streams it to one host, and the hosts pass it on
// to each other along a pipelined chain (fanout = 1) or tree, every host
// keeping a copy as the bytes go by. The relay runs over SSH between the
// hosts: for each transfer diffuser makes a throw-away key pair and host
// key, starts a second sshd on every host (its own config, port and
// authorized key, forced to run the relay hop script), and removes all of
// it afterwards; hosts need sshd, the ssh client and coreutils, nothing else
// (see docs/distribute.md). A host that dies mid-transfer is reported as
// failed; the others are re-chained without it, each resuming from the
// bytes it already has, fed by a host that already holds the whole file
// when there is one, else by the operator from the lowest offset needed.
// With mode = "direct" the operator streams the file to each host itself.
//
// Either way each host writes a part file beside dest (.<name>.diffuser-<tag>.part),
// the sha256 of what it received is compared with the digest the operator
// computed while reading the source (and with sha256 when given), and only
// then is the part renamed to dest, with file_mode. A part left by a failed
// transfer is resumed by the next one of the same source version.
//
// Check is OK when dest is a regular file with the source's sha256 and
// file_mode. Without sha256 the source is read to compute its digest (once
// per process and source version): give sha256 for URLs.
type Kind struct {
	// HTTP fetches URL sources; nil means http.DefaultClient.
	HTTP *http.Client
}

var (
	_ steps.Kind      = Kind{}
	_ steps.GroupKind = Kind{}
)

type distArgs struct {
	source   string
	dest     string
	mode     string // relay or direct
	sha256   string // lower-case hex, or ""
	fileMode os.FileMode
	fanout   int
	port     int // relay listener port; 0 picks one per transfer
}

// Name returns "distribute".
func (Kind) Name() string { return "distribute" }

// schema: source (required: a path on the operator's machine or an
// http(s) URL), dest (required, an absolute file path), mode ("relay" or
// "direct", default "relay"), sha256 (64 hex digits: the expected digest),
// file_mode (octal string, default "0644"), fanout (1–16, default 1: a
// chain; k > 1: a tree in which each host feeds k others; relay only),
// port (the relay listener's first port; default a random one per
// transfer; relay only).
var schema = &steps.Schema{Kind: "distribute", Args: []steps.Arg{
	{Name: "source", Type: cty.String, Required: true,
		Check: steps.StringRule(`a path on the operator's machine or an "http://" or "https://" URL`, validSource),
		Doc:   "what to send"},
	{Name: "dest", Type: cty.String, Required: true, Check: steps.FilePath(), Doc: "where every host keeps it"},
	{Name: "mode", Default: cty.StringVal("relay"), Check: steps.OneOf("relay", "direct"), Doc: "hosts pass the file on, or the operator sends every copy"},
	{Name: "sha256", Type: cty.String, Check: steps.StringRule("64 hexadecimal digits", func(s string) bool { return isHexDigest(strings.ToLower(s)) }), Doc: "the digest the file must have"},
	{Name: "file_mode", Default: cty.StringVal("0644"), Check: steps.OctalMode(), Doc: "mode of dest"},
	{Name: "fanout", Default: cty.NumberIntVal(1), Check: steps.IntBetween(1, 16), Doc: "1: a chain; k: each host feeds k others"},
	{Name: "port", Type: cty.Number, Check: steps.IntBetween(0, 65535-relayPortTries), Doc: "the relay listener's first port; 0 or unset: a random one"},
}, Rules: []steps.Rule{
	steps.OnlyWith("fanout", "mode", []string{"relay"}, "it shapes the relay between hosts, and direct has none"),
	steps.OnlyWith("port", "mode", []string{"relay"}, "it is the relay listener's, and direct has none"),
}}

// validSource accepts local paths and http(s) URLs, not other schemes.
func validSource(s string) bool {
	if strings.TrimSpace(s) == "" || strings.ContainsAny(s, "\n\x00") {
		return false
	}
	if scheme, _, ok := strings.Cut(s, "://"); ok && !strings.ContainsAny(scheme, "/.") {
		return scheme == "http" || scheme == "https"
	}
	return true
}

// Schema returns the distribute kind's arguments.
func (Kind) Schema() *steps.Schema { return schema }

func parseDistArgs(args cty.Value) (distArgs, error) {
	var a distArgs
	if err := schema.Validate(args).Err(); err != nil {
		return a, err
	}
	var err error
	if a.source, err = steps.ReqString(args, "source"); err != nil {
		return a, err
	}
	if a.dest, err = steps.ReqString(args, "dest"); err != nil {
		return a, err
	}
	a.dest = path.Clean(a.dest)
	if a.mode, err = steps.OptString(args, "mode", "relay"); err != nil {
		return a, err
	}
	if a.sha256, err = steps.OptString(args, "sha256", ""); err != nil {
		return a, err
	}
	a.sha256 = strings.ToLower(a.sha256)
	ms, err := steps.OptString(args, "file_mode", "0644")
	if err != nil {
		return a, err
	}
	m, _ := strconv.ParseUint(ms, 8, 32) // checked by schema
	a.fileMode = os.FileMode(m)
	a.fanout = 1
	if v, set, err := steps.OptInt(args, "fanout"); err != nil {
		return a, err
	} else if set {
		a.fanout = v
	}
	if a.port, _, err = steps.OptInt(args, "port"); err != nil {
		return a, err
	}
	return a, nil
}

// isHexDigest reports whether s is a sha256 digest in lower-case hex.
func isHexDigest(s string) bool {
	if len(s) != 64 {
		return false
	}
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// partPath is the part file beside dest for a source version tagged key.
func (a distArgs) partPath(key string) string {
	dir, base := path.Split(a.dest)
	return dir + "." + base + ".diffuser-" + key + ".part"
}

// partGlob matches every part file of dest, whatever its source version.
func (a distArgs) partGlob() string {
	dir, base := path.Split(a.dest)
	return steps.ShellQuote(dir+"."+base+".diffuser-") + "*.part"
}

// destFacts is what a host says about dest.
type destFacts struct {
	exists bool
	size   int64
	mode   os.FileMode
	sha256 string // only when asked for and the size matched
}

// sha256Stdin hashes stdin: with openssl when the host has it (it uses
// the CPU's SHA instructions, several times faster than coreutils'
// sha256sum on large files), else with sha256sum. Either prints the hex
// digest as the first word.
const sha256Stdin = "if command -v openssl >/dev/null 2>&1; then openssl dgst -sha256 -r; else sha256sum; fi"

// sha256File hashes file (see sha256Stdin).
func sha256File(file string) string {
	return "{ " + sha256Stdin + "; } <" + steps.ShellQuote(file)
}

// destFactsCmd prints "absent", or "SIZE MODE" and, when the size is want,
// the file's sha256; it exits 3 when dest is not a regular file.
func destFactsCmd(dest string, want int64) string {
	q := steps.ShellQuote(dest)
	return fmt.Sprintf("if [ -f %[1]s ]; then stat -L -c '%%s %%a' -- %[1]s && if [ \"$(stat -L -c %%s -- %[1]s)\" = %[2]d ]; then %[3]s; fi; "+
		"elif [ -e %[1]s ]; then echo 'not a regular file' >&2; exit 3; else echo absent; fi", q, want, sha256File(dest))
}

func readDestFacts(ctx context.Context, r runner.Runner, dest string, want int64) (destFacts, error) {
	var f destFacts
	cmd := destFactsCmd(dest, want)
	res, err := steps.Probe(ctx, r, "reading "+dest, cmd)
	if err != nil {
		return f, err
	}
	if res.Exit == 3 {
		return f, fmt.Errorf("%s exists and is not a regular file; refusing to replace it", dest)
	}
	if res.Exit != 0 {
		return f, steps.ExitError("reading "+dest, cmd, res)
	}
	lines := strings.Split(strings.TrimSpace(res.Stdout), "\n")
	if len(lines) == 1 && lines[0] == "absent" {
		return f, nil
	}
	st := strings.Fields(lines[0])
	if len(st) != 2 || len(lines) > 2 {
		return f, fmt.Errorf("reading %s: unexpected output %s", dest, runner.QuoteOutput(res.Stdout))
	}
	size, err1 := strconv.ParseInt(st[0], 10, 64)
	m, err2 := strconv.ParseUint(st[1], 8, 32)
	if err1 != nil || err2 != nil {
		return f, fmt.Errorf("reading %s: unexpected output %s", dest, runner.QuoteOutput(res.Stdout))
	}
	f = destFacts{exists: true, size: size, mode: os.FileMode(m)}
	if len(lines) == 2 {
		sum := strings.Fields(lines[1])
		if len(sum) == 0 || !isHexDigest(sum[0]) {
			return f, fmt.Errorf("reading %s: bad sha256 output %q", dest, lines[1])
		}
		f.sha256 = sum[0]
	}
	return f, nil
}

// reasons says how dest differs from the wanted content and mode; none
// means it holds.
func (a distArgs) reasons(f destFacts, sum string, size int64) []string {
	if !f.exists {
		return []string{a.dest + " does not exist"}
	}
	var rs []string
	switch {
	case f.size != size:
		rs = append(rs, fmt.Sprintf("size is %d, want %d", f.size, size))
	case f.sha256 != sum:
		rs = append(rs, fmt.Sprintf("content differs (sha256 %.12s, want %.12s)", f.sha256, sum))
	}
	if f.mode != a.fileMode {
		rs = append(rs, fmt.Sprintf("mode is %04o, want %04o", f.mode, a.fileMode))
	}
	return rs
}

// expected returns the digest and size dest must have: sha256 when given
// (the size still comes from the source), else the source's own.
func (k Kind) expected(ctx context.Context, a distArgs, art artifact) (string, int64, error) {
	if a.sha256 != "" && art.size() >= 0 {
		return a.sha256, art.size(), nil
	}
	sum, size, err := sourceDigest(ctx, art)
	if err != nil {
		return "", 0, err
	}
	if a.sha256 != "" && sum != a.sha256 {
		return "", 0, fmt.Errorf("source %s has sha256 %s, but the step says sha256 = %q", art, sum, a.sha256)
	}
	return sum, size, nil
}

// Check is OK when dest holds the source's content with file_mode.
func (k Kind) Check(ctx context.Context, r runner.Runner, args cty.Value) (steps.Check, error) {
	a, err := parseDistArgs(args)
	if err != nil {
		return steps.Check{}, err
	}
	art, err := openArtifact(ctx, a.source, k.HTTP)
	if err != nil {
		return steps.Check{}, err
	}
	sum, size, err := k.expected(ctx, a, art)
	if err != nil {
		return steps.Check{}, err
	}
	f, err := readDestFacts(ctx, r, a.dest, size)
	if err != nil {
		return steps.Check{}, err
	}
	if rs := a.reasons(f, sum, size); len(rs) > 0 {
		return steps.Check{Reason: strings.Join(rs, "; ")}, nil
	}
	return steps.Check{OK: true}, nil
}

// Apply delivers the file to one host, directly from the operator (a step
// on a single host has nobody to relay through).
func (k Kind) Apply(ctx context.Context, r runner.Runner, args cty.Value) (steps.Outputs, error) {
	outs, errs := k.applyTargets(ctx, []steps.Target{{Host: "host", Runner: r}}, args, true)
	return outs[0], errs[0]
}

// ApplyGroup delivers the file to every target, relayed between them
// unless mode = "direct". It returns one Outputs (sha256, size) and one
// error per target.
func (k Kind) ApplyGroup(ctx context.Context, targets []steps.Target, args cty.Value) ([]steps.Outputs, []error) {
	return k.applyTargets(ctx, targets, args, false)
}

func (k Kind) applyTargets(ctx context.Context, targets []steps.Target, args cty.Value, direct bool) ([]steps.Outputs, []error) {
	outs, errs := make([]steps.Outputs, len(targets)), make([]error, len(targets))
	fail := func(err error) ([]steps.Outputs, []error) {
		for i := range errs {
			errs[i] = err
		}
		return outs, errs
	}
	a, err := parseDistArgs(args)
	if err != nil {
		return fail(err)
	}
	if direct {
		a.mode = "direct"
	}
	art, err := openArtifact(ctx, a.source, k.HTTP)
	if err != nil {
		return fail(err)
	}
	t := newTransfer(a, art, targets)
	t.run(ctx)
	for i, h := range t.hosts {
		if h.err != nil {
			errs[i] = h.err
			continue
		}
		outs[i] = steps.Outputs{"sha256": t.sum, "size": strconv.FormatInt(t.size, 10)}
	}
	return outs, errs
}
