package steps

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"diffuser/runner"

	"github.com/zclconf/go-cty/cty"
)

// FormatKind makes a filesystem on a block device. It never runs mkfs on a
// device that holds anything blkid recognises (a filesystem, a partition
// table, an LVM or RAID member, swap) unless force is true; then it wipes
// the signatures first (wipefs -a). A device that already holds the requested
// filesystem type is left alone: label and options apply only when the
// filesystem is made. Data without a signature is invisible to blkid and so
// cannot be protected. FormatKind has no Destroy: leaving the recipe never
// wipes a device.
type FormatKind struct{}

var _ Kind = FormatKind{}

type formatArgs struct {
	device  string
	fstype  string
	options []string
	label   string
	force   bool
}

// Name returns "format".
func (FormatKind) Name() string { return "format" }

// formatSchema: device (required, an absolute path), fstype (required: a
// mkfs.<fstype> name), options (list(string), default []: extra mkfs
// arguments), label (string, within the filesystem's limit), force (bool,
// default false).
var formatSchema = &Schema{Kind: "format", Args: []Arg{
	{Name: "device", Type: cty.String, Required: true, Check: AbsPath(`an absolute device path such as "/dev/xvdf"`),
		Doc: "the block device, usually `host.volume.NAME.device`"},
	{Name: "fstype", Type: cty.String, Required: true,
		Check: StringRule(`a filesystem type such as "xfs" or "ext4" (lower-case letters and digits; mkfs.FSTYPE must exist)`, validFstype),
		Doc:   "the filesystem to make"},
	{Name: "options", Default: cty.ListValEmpty(cty.String), Doc: "extra mkfs arguments"},
	{Name: "label", Type: cty.String, Doc: "the filesystem's label"},
	{Name: "force", Default: cty.False, Doc: "wipe existing signatures first: destroys data"},
}, Rules: []Rule{
	NewRule("`label` within the filesystem's limit (xfs 12 characters, ext2/3/4 16, vfat 11)", []string{"fstype", "label"}, labelFits),
}}

// labelLimits are the longest labels mkfs accepts, per filesystem type.
var labelLimits = map[string]int{"xfs": 12, "ext2": 16, "ext3": 16, "ext4": 16, "vfat": 11, "fat": 11, "msdos": 11, "btrfs": 255}

// labelFits is formatSchema's rule: mkfs refuses (xfs) or cuts (ext4) a
// label longer than its filesystem allows.
func labelFits(vals map[string]cty.Value) *Problem {
	fs, label := vals["fstype"], vals["label"]
	if !fs.IsWhollyKnown() || !label.IsWhollyKnown() {
		return nil
	}
	fs, _ = fs.Unmark()
	label, marks := label.Unmark()
	if fs.IsNull() || label.IsNull() || fs.Type() != cty.String || label.Type() != cty.String {
		return nil
	}
	limit, ok := labelLimits[fs.AsString()]
	if !ok || len(label.AsString()) <= limit {
		return nil
	}
	shown := strconv.Quote(label.AsString())
	if len(marks) > 0 {
		shown = "(sensitive value)"
	}
	return &Problem{Arg: "label", Summary: "Invalid format label",
		Detail: fmt.Sprintf("mkfs.%s takes a label of at most %d characters; %s has %d.", fs.AsString(), limit, shown, len(label.AsString()))}
}

// Schema returns the format kind's arguments.
func (FormatKind) Schema() *Schema { return formatSchema }

func parseFormatArgs(args cty.Value) (formatArgs, error) {
	var a formatArgs
	if err := formatSchema.Validate(args).Err(); err != nil {
		return a, err
	}
	var err error
	if a.device, err = ReqString(args, "device"); err != nil {
		return a, err
	}
	if a.fstype, err = ReqString(args, "fstype"); err != nil {
		return a, err
	}
	if a.options, err = stringList(args, "options"); err != nil {
		return a, err
	}
	if a.label, err = OptString(args, "label", ""); err != nil {
		return a, err
	}
	if a.force, err = boolOr(args, "force", false); err != nil {
		return a, err
	}
	return a, nil
}

// blkidFound is what blkid found on a device; the zero value is "nothing".
type blkidFound struct {
	fstype string // TYPE: a filesystem or other signature (LVM2_member, swap, ...)
	ptType string // PTTYPE: a partition table
	ambig  bool   // several signatures (blkid exit 8)
}

func (b blkidFound) empty() bool { return b.fstype == "" && b.ptType == "" && !b.ambig }

func (b blkidFound) String() string {
	switch {
	case b.ambig:
		return "several conflicting signatures"
	case b.fstype != "" && b.ptType != "":
		return fmt.Sprintf("%s and a %s partition table", b.fstype, b.ptType)
	case b.fstype != "":
		return b.fstype
	case b.ptType != "":
		return fmt.Sprintf("a %s partition table", b.ptType)
	}
	return "nothing"
}

// probeDevice runs blkid in low-level mode (no cache). blkid exits 0 when it
// found something, 2 when it found nothing, 8 when the signatures are
// ambivalent; the leading test makes a missing device exit 1.
func probeDevice(ctx context.Context, r runner.Runner, dev string) (blkidFound, error) {
	q := ShellQuote(dev)
	cmd := fmt.Sprintf("test -e %s && blkid -p -o export %s", q, q)
	res, err := Probe(ctx, r, "probing "+dev, cmd)
	if err != nil {
		return blkidFound{}, err
	}
	if res.Exit == 1 {
		return blkidFound{}, fmt.Errorf("device %s does not exist", dev)
	}
	b, ok := blkidAnswer(res.Exit, res.Stdout)
	if !ok {
		return blkidFound{}, ExitError("blkid", cmd, res)
	}
	return b, nil
}

// blkidAnswer reads what `blkid -p -o export` said: exit 0 with its TYPE
// and PTTYPE lines, 2 nothing, 8 ambivalent signatures. ok is false for
// any other exit status (blkid failed).
func blkidAnswer(exit int, stdout string) (b blkidFound, ok bool) {
	switch exit {
	case 0:
	case 2:
		return blkidFound{}, true
	case 8:
		return blkidFound{ambig: true}, true
	default:
		return blkidFound{}, false
	}
	for _, line := range strings.Split(stdout, "\n") {
		k, v, _ := strings.Cut(strings.TrimSpace(line), "=")
		switch k {
		case "TYPE":
			b.fstype = v
		case "PTTYPE":
			b.ptType = v
		}
	}
	if b.empty() {
		// blkid said it found something but printed neither: don't guess.
		b.ambig = true
	}
	return b, true
}

// holdsWanted reports whether the device already is as declared.
func (a formatArgs) holdsWanted(b blkidFound) bool {
	return b.fstype == a.fstype && b.ptType == "" && !b.ambig
}

// Check is OK when the device holds the requested filesystem type.
func (FormatKind) Check(ctx context.Context, r runner.Runner, args cty.Value) (Check, error) {
	a, err := parseFormatArgs(args)
	if err != nil {
		return Check{}, err
	}
	b, err := probeDevice(ctx, r, a.device)
	if err != nil {
		return Check{}, err
	}
	switch {
	case a.holdsWanted(b):
		return Check{OK: true}, nil
	case b.empty():
		return Check{Reason: fmt.Sprintf("%s holds no filesystem", a.device)}, nil
	case a.force:
		return Check{Reason: fmt.Sprintf("%s holds %s, not %s: force = true will wipe it", a.device, b, a.fstype)}, nil
	default:
		return Check{Reason: fmt.Sprintf("%s holds %s, not %s: apply will refuse to format it without force = true", a.device, b, a.fstype)}, nil
	}
}

// Apply makes the filesystem on an empty device, or on any device when force
// is true, after wiping its signatures.
func (FormatKind) Apply(ctx context.Context, r runner.Runner, args cty.Value) (Outputs, error) {
	a, err := parseFormatArgs(args)
	if err != nil {
		return nil, err
	}
	b, err := probeDevice(ctx, r, a.device)
	if err != nil {
		return nil, err
	}
	if a.holdsWanted(b) {
		return nil, nil
	}
	if !b.empty() && !a.force {
		return nil, fmt.Errorf("refusing to format %s as %s: it holds %s; force = true would destroy its data", a.device, a.fstype, b)
	}
	words := []string{"mkfs." + a.fstype}
	if a.label != "" {
		words = append(words, labelFlag(a.fstype), a.label)
	}
	words = append(words, a.options...)
	words = append(words, a.device)
	cmd := formatLockedScript(a, shellJoin(words...))
	res, err := Probe(ctx, r, "mkfs."+a.fstype, cmd)
	if err != nil {
		return nil, err
	}
	switch res.Exit {
	case 0:
		return nil, nil
	case lockedNoFlock:
		return nil, errNoFlock("formatting "+a.device, "keep other tools off the device while it formats it")
	case lockedTimeout:
		if msg := stderrTail(res); msg != "" {
			// util-linux's flock says nothing when -w runs out; a
			// message is flock failing (busybox's has no -w).
			return nil, fmt.Errorf("formatting %s: flock could not take the device's lock: %s", a.device, msg)
		}
		return nil, fmt.Errorf("formatting %s: another process held the device's lock for more than %s (a partitioning or formatting tool, or another diffuser): find it with lslocks, let it finish or stop it, and apply again", a.device, formatLockWait)
	case lockedChanged: // the device holds something now that it did not
		return nil, lockedRefusal(a, res)
	}
	return nil, ExitError("mkfs."+a.fstype, cmd, res)
}

// lockedRefusal is the error of formatLockedScript's lockedChanged:
// stdout is "blkid_exit=N" and then what blkid printed under the lock.
func lockedRefusal(a formatArgs, res runner.Result) error {
	first, rest, _ := strings.Cut(res.Stdout, "\n")
	exit, err := strconv.Atoi(strings.TrimPrefix(first, "blkid_exit="))
	if err != nil {
		exit = -1
	}
	b, ok := blkidAnswer(exit, rest)
	if !ok {
		msg := stderrTail(res)
		if msg != "" {
			msg = ": " + msg
		}
		return fmt.Errorf("refusing to format %s as %s: blkid could not probe it once it was locked (exit %d); nothing was changed%s", a.device, a.fstype, exit, msg)
	}
	return fmt.Errorf("refusing to format %s as %s: another process wrote to it since this step looked, and it now holds %s; nothing was changed: find out who (another workspace listing the same device?) and apply again",
		a.device, a.fstype, b)
}

// formatLockWait is how long formatting waits for another holder of the
// device's lock (udev probes it for milliseconds; another mkfs for
// seconds to minutes).
const formatLockWait = 5 * time.Minute

// formatLockedScript is Apply's one command that changes the device. It
// holds an exclusive flock on the device node while it looks again and
// formats, as systemd's block device locking asks of tools that write
// partition tables or filesystems (udev, systemd-repart, sfdisk --lock and
// wipefs --lock take the same lock), so that two diffusers (or such a
// tool) never both find the device empty and both format it, the second
// over the first's new filesystem. The lock is on the node named: for a
// partition that keeps other diffusers off it, but not tools that, as
// systemd asks, lock the whole disk the partition is on. Under the lock: the declared
// filesystem found there (someone made it meanwhile) is kept; anything
// else, unless force, stops it with lockedChanged, printing
// "blkid_exit=N" and what blkid printed (lockedRefusal reads them); with force, signatures are wiped first. mkfs is the last
// command (the words given, quoted).
func formatLockedScript(a formatArgs, mkfs string) string {
	wipe := "0"
	if a.force {
		wipe = "1"
	}
	return fmt.Sprintf(`d=%s fs=%s wipe=%s
(
%sout=$(blkid -p -o export "$d"); rc=$?
if [ $rc -eq 0 ] && printf '%%s\n' "$out" | grep -qxF "TYPE=$fs" && ! printf '%%s\n' "$out" | grep -q '^PTTYPE='; then exit 0; fi
if [ $rc -ne 2 ]; then
  if [ "$wipe" != 1 ]; then printf 'blkid_exit=%%s\n%%s\n' "$rc" "$out"; exit %d; fi
  wipefs -a "$d" || exit
fi
%s
) 9<"$d"`, ShellQuote(a.device), ShellQuote(a.fstype), wipe, flockPrelude(formatLockWait), lockedChanged, mkfs)
}

// validFstype reports whether s may follow "mkfs." in a command name.
func validFstype(s string) bool {
	for i, c := range s {
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case i > 0 && (c == '_' || c == '.' || c == '-'):
		default:
			return false
		}
	}
	return s != ""
}

// labelFlag is the mkfs flag that sets the label for fstype.
func labelFlag(fstype string) string {
	switch fstype {
	case "vfat", "fat", "msdos":
		return "-n"
	}
	return "-L"
}
