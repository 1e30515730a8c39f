package workspace

import (
	"crypto/subtle"
	"fmt"
	"slices"
	"strings"

	"diffuser/state"
)

// PlanSecret is a sensitive variable given with -var when a plan was
// saved. The plan file keeps no value, only a salted SHA-256 digest (as
// remembered inputs do), and `apply PLANFILE` needs the value again
// (-var NAME=VALUE): a plan file is often copied around for review, and a
// secret in it would travel too.
type PlanSecret struct {
	Name   string `json:"name"`
	Digest string `json:"digest"`
	Salt   string `json:"salt"`
}

// planVersionSecrets is the version of a plan file with PlanSecrets: a
// diffuser that does not know them refuses the file instead of planning
// without the values.
const planVersionSecrets = 2

// splitSecrets takes the -var values of sensitive variables out of vars,
// leaving their digests.
func splitSecrets(vars []string, sensitive func(name string) bool) (plain []string, secrets []PlanSecret, err error) {
	for _, kv := range vars {
		name, val, ok := strings.Cut(kv, "=")
		name = strings.TrimSpace(name)
		if !ok || !sensitive(name) {
			plain = append(plain, kv)
			continue
		}
		// The last -var of a name wins: drop an earlier one.
		secrets = slices.DeleteFunc(secrets, func(s PlanSecret) bool { return s.Name == name })
		d, salt, err := sensitiveDigest([]byte(val), nil)
		if err != nil {
			return nil, nil, fmt.Errorf("digesting var.%s: %w", name, err)
		}
		secrets = append(secrets, PlanSecret{Name: name, Digest: d, Salt: salt})
	}
	return plain, secrets, nil
}

// GiveSecrets supplies the sensitive values a saved plan needs, as -var
// NAME=VALUE: each must match the digest the plan kept. Other variables
// cannot be given: the plan's inputs are fixed.
func (sp *SavedPlan) GiveSecrets(vars []string) error {
	given := map[string]string{}
	for _, kv := range vars {
		name, val, ok := strings.Cut(kv, "=")
		name = strings.TrimSpace(name)
		if !ok || name == "" {
			return fmt.Errorf("--var %q must be NAME=VALUE", redactVar(kv))
		}
		if !slices.ContainsFunc(sp.Secrets, func(s PlanSecret) bool { return s.Name == name }) {
			return fmt.Errorf("--var %s: a saved plan's inputs are fixed when it is made; only the sensitive variables it did not store can be given (%s)",
				name, secretNames(sp.Secrets))
		}
		given[name] = val
	}
	for _, s := range sp.Secrets {
		val, ok := given[s.Name]
		if !ok {
			return fmt.Errorf("the saved plan was made with the sensitive variable var.%s, whose value a plan file does not store: "+
				"give it again with `diffuser apply PLANFILE -var %s=VALUE`", s.Name, s.Name)
		}
		d, _, err := sensitiveDigest([]byte(val), &state.Var{Salt: s.Salt})
		if err != nil {
			return err
		}
		if subtle.ConstantTimeCompare([]byte(d), []byte(s.Digest)) != 1 {
			return fmt.Errorf("--var %s: not the value the plan was made with (its digest differs); give that value, or make a new plan", s.Name)
		}
		sp.Vars = append(sp.Vars, s.Name+"="+val)
	}
	return nil
}

func secretNames(ss []PlanSecret) string {
	if len(ss) == 0 {
		return "this plan has none"
	}
	var names []string
	for _, s := range ss {
		names = append(names, "var."+s.Name)
	}
	return strings.Join(names, ", ")
}

// redactVar shows NAME=... of a -var, never its value.
func redactVar(kv string) string {
	if name, _, ok := strings.Cut(kv, "="); ok {
		return name + "=(hidden)"
	}
	return "(hidden)"
}
