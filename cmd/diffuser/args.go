package main

import (
	"fmt"
	"strings"

	"diffuser/lang"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// normalizeArgs accepts the single-dash long flags Terraform users type
// (-var, -auto-approve, -var-file=x) by rewriting them to cobra's --form
// when they name a known long flag, or when they are no run of known
// short flags (a misspelt long one). Short flags (-h) are left alone.
func normalizeArgs(root *cobra.Command, args []string) []string {
	long, short := map[string]bool{}, map[rune]bool{}
	valued := map[string]bool{} // long flags that take the next argument as their value
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		add := func(f *pflag.Flag) {
			long[f.Name] = true
			valued[f.Name] = valued[f.Name] || f.NoOptDefVal == ""
			for _, r := range f.Shorthand {
				short[r] = true
			}
		}
		c.Flags().VisitAll(add)
		c.PersistentFlags().VisitAll(add)
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
	short['h'] = true // cobra adds -h, --help when a command runs
	out := make([]string, 0, len(args))
	isValue := false // a is the value of the flag before it (--lock-timeout -1s)
	for i, a := range args {
		if a == "--" {
			out = append(out, args[i:]...)
			break
		}
		if !isValue && strings.HasPrefix(a, "-") && !strings.HasPrefix(a, "--") && len(a) > 2 {
			name, _, _ := strings.Cut(a[1:], "=")
			if long[name] || (isLetter(name[0]) && !shorthands(name, short)) {
				// A known long flag, or a mistyped one (-tagret): cobra
				// then names it as typed, not as shorthand 't'.
				a = "-" + a
			}
		}
		name, hasValue := strings.CutPrefix(a, "--")
		isValue = hasValue && !strings.Contains(name, "=") && valued[name]
		out = append(out, a)
	}
	return out
}

func isLetter(b byte) bool { return 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' }

// shorthands says whether every letter of name is a known short flag.
func shorthands(name string, short map[rune]bool) bool {
	for _, r := range name {
		if !short[r] {
			return false
		}
	}
	return name != ""
}

// flagError adds to cobra's "unknown flag: --tagret" the closest flag c
// has (did you mean --target?) and where the flags are listed.
func flagError(c *cobra.Command, err error) error {
	name, ok := strings.CutPrefix(err.Error(), "unknown flag: --")
	if !ok {
		return err
	}
	name, _, _ = strings.Cut(name, "=")
	var known []string
	c.Flags().VisitAll(func(f *pflag.Flag) { known = append(known, f.Name) })
	c.InheritedFlags().VisitAll(func(f *pflag.Flag) { known = append(known, f.Name) })
	hint := ""
	if h := terraformFlags[name]; h != "" {
		hint = h + "; "
	} else if s := lang.Suggest(name, known); s != "" {
		hint = fmt.Sprintf("did you mean --%s? ", s)
	}
	return fmt.Errorf("%w (%s'%s --help' lists its flags)", err, hint, c.CommandPath())
}
