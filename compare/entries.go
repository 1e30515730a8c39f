package compare

import (
	"fmt"
	"path/filepath"
	"strings"
)

// Entry is one recipe of a comparison: RECIPE or LABEL=RECIPE on the
// command line.
type Entry struct {
	Label  string // names its row and its workspace, compare-LABEL
	Recipe string // a built-in recipe's name or a path
}

// ParseEntries reads the command's recipe arguments. A built-in recipe is
// labelled by its name, a path by its file name without .hcl (or its
// directory's name); LABEL=RECIPE chooses the label, so one recipe can be
// compared with itself under other variables.
func ParseEntries(args []string) ([]Entry, error) {
	if len(args) == 0 {
		return nil, fmt.Errorf("name at least one recipe to compare, e.g. diffuser compare glusterfs ceph")
	}
	seen := map[string]bool{}
	var out []Entry
	for _, a := range args {
		e := Entry{Recipe: a}
		if l, r, ok := strings.Cut(a, "="); ok {
			e.Label, e.Recipe = l, r
		} else {
			e.Label = strings.TrimSuffix(filepath.Base(filepath.Clean(a)), ".hcl")
		}
		if e.Recipe == "" {
			return nil, fmt.Errorf("%q: write LABEL=RECIPE with a recipe after '='", a)
		}
		if err := checkLabel(e.Label); err != nil {
			return nil, fmt.Errorf("%q: %w", a, err)
		}
		if seen[e.Label] {
			return nil, fmt.Errorf("%q: label %s is used twice: write LABEL=RECIPE to tell them apart", a, e.Label)
		}
		seen[e.Label] = true
		out = append(out, e)
	}
	return out, nil
}

// checkLabel accepts labels that make a workspace name and cannot be
// mistaken for the LABEL.NAME=VALUE form of -var: letters, digits, '_'
// and '-', starting with a letter or digit.
func checkLabel(l string) error {
	ok := l != "" && len(l) <= 60 && l[0] != '-' && l[0] != '_'
	for i := 0; ok && i < len(l); i++ {
		c := l[i]
		ok = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
	}
	if !ok {
		return fmt.Errorf("label %q: use 1 to 60 letters, digits, '_' and '-', starting with a letter or digit (write LABEL=RECIPE to choose one)", l)
	}
	return nil
}

// WorkspaceName is the workspace a label's recipe is deployed in.
func WorkspaceName(label string) string { return "compare-" + label }

// serverVars names, per built-in recipe, the variable that counts its
// storage servers (ceph's monitors stay at their default: OSDs hold the
// data). Other recipes use a variable named "servers" when they declare
// one; a recipe with neither has a fixed number of servers (nfs: one).
var serverVars = map[string]string{
	"glusterfs": "servers",
	"ceph":      "osds",
	"moosefs":   "chunkservers",
	"orangefs":  "servers",
}

// ServerVar is the variable of recipe (by its name) that --servers sets,
// or "" when declared does not have it.
func ServerVar(recipe string, declared map[string]bool) string {
	if v, ok := serverVars[recipe]; ok && declared[v] {
		return v
	}
	if declared["servers"] {
		return "servers"
	}
	return ""
}

// SplitVars sorts -var values into those for every recipe (NAME=VALUE)
// and those for one label (LABEL.NAME=VALUE), checking the labels exist.
func SplitVars(vars []string, entries []Entry) (common []string, per map[string][]string, err error) {
	labels := map[string]bool{}
	for _, e := range entries {
		labels[e.Label] = true
	}
	per = map[string][]string{}
	for _, v := range vars {
		name, _, ok := strings.Cut(v, "=")
		if !ok {
			return nil, nil, fmt.Errorf("--var %q: write NAME=VALUE, or LABEL.NAME=VALUE for one recipe", v)
		}
		if l, _, ok := strings.Cut(name, "."); ok {
			if !labels[l] {
				return nil, nil, fmt.Errorf("--var %q: no recipe is labelled %q (labels: %s)", v, l, strings.Join(labelList(entries), ", "))
			}
			per[l] = append(per[l], strings.TrimPrefix(v, l+"."))
			continue
		}
		common = append(common, v)
	}
	return common, per, nil
}

func labelList(entries []Entry) []string {
	var out []string
	for _, e := range entries {
		out = append(out, e.Label)
	}
	return out
}

// VarName is the NAME of NAME=VALUE.
func VarName(v string) string {
	n, _, _ := strings.Cut(v, "=")
	return strings.TrimSpace(n)
}
