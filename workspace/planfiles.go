package workspace

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"

	ctyjson "github.com/zclconf/go-cty/cty/json"
)

// PlanFiles are digests of the files a saved plan was made from, by
// name: the recipe's, each -var-file's and the site file's. apply refuses
// the plan on the recipe digest (RecipeRef.Digest, over the recipe and its
// -var-files together) and on what it plans again (engine.Plan.Pin), not
// on these: they say which file changed when it refuses. Like
// RecipeRef.Digest they are unsalted (docs/secrets.md).
type PlanFiles struct {
	Recipe   map[string]string `json:"recipe"`
	VarFiles map[string]string `json:"var_files,omitempty"`
	Site     map[string]string `json:"site,omitempty"`
}

// planFiles are the digests of the files ws was loaded from.
func (ws *Workspace) planFiles() *PlanFiles {
	in := &PlanFiles{Recipe: map[string]string{}}
	for name, f := range ws.Loaded.Recipe.Files {
		if slices.Contains(ws.Inputs.VarFiles, name) {
			if in.VarFiles == nil {
				in.VarFiles = map[string]string{}
			}
			in.VarFiles[name] = fileDigest(f.Bytes)
		} else {
			in.Recipe[name] = fileDigest(f.Bytes)
		}
	}
	if ws.Site != nil {
		in.Site = map[string]string{}
		for name, f := range ws.Site.Files {
			in.Site[name] = fileDigest(f.Bytes)
		}
	}
	return in
}

// planVars are digests of the values of ws's variables, by name, but for
// sensitive ones: a sensitive -var is checked by its salted digest
// (PlanSecret), one from a file by the file's digest.
func (ws *Workspace) planVars() map[string]string {
	out := map[string]string{}
	for name, v := range ws.Loaded.Vars {
		if v.IsMarked() || v.ContainsMarked() {
			continue
		}
		b, err := ctyjson.SimpleJSONValue{Value: v}.MarshalJSON()
		if err != nil {
			continue
		}
		out[name] = fileDigest(b)
	}
	return out
}

func fileDigest(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])[:16]
}

// changed says which files of was now differ, are gone or are new, one
// phrase each: "the recipe changed (main.hcl)", "-var-file prod.tfvars
// changed", "the site file diffuser.hcl changed".
func (was *PlanFiles) changed(now *PlanFiles) []string {
	var out []string
	if names := changedNames(was.Recipe, now.Recipe); len(names) > 0 {
		out = append(out, "the recipe changed ("+strings.Join(names, ", ")+")")
	}
	for _, name := range changedNames(was.VarFiles, now.VarFiles) {
		out = append(out, "-var-file "+name+" changed")
	}
	if site := was.siteChanged(now); site != "" {
		out = append(out, site+" changed")
	}
	return out
}

// siteChanged names the site file when it differs from was's: "the site
// file diffuser.hcl", or "" (also when was is nil: not known).
func (was *PlanFiles) siteChanged(now *PlanFiles) string {
	if was == nil {
		return ""
	}
	if names := changedNames(was.Site, now.Site); len(names) > 0 {
		return "the site file " + strings.Join(names, ", ")
	}
	return ""
}

func changedNames(was, now map[string]string) []string {
	var out []string
	for _, name := range differ(was, now) {
		_, had := was[name]
		switch _, has := now[name]; {
		case !has:
			out = append(out, name+" is gone")
		case !had:
			out = append(out, name+" is new")
		default:
			out = append(out, name)
		}
	}
	return out
}

// differ are the names, sorted, whose digests in was and now differ
// (or that only one of them has).
func differ(was, now map[string]string) []string {
	var out []string
	for name, d := range was {
		if n, ok := now[name]; !ok || n != d {
			out = append(out, name)
		}
	}
	for name := range now {
		if _, ok := was[name]; !ok {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

// recipeStale is the error for a saved plan whose recipe digest differs
// from ws's: naming the files that changed when the plan kept their
// digests, else (a plan made before it did) the recipe and its
// -var-files, which the digest covers together.
func (sp *SavedPlan) recipeStale(ws *Workspace) error {
	what := "the recipe changed"
	if len(sp.VarFiles) > 0 {
		what = "the recipe or a -var-file it was made with (" + strings.Join(sp.VarFiles, ", ") + ") changed"
	}
	if sp.Files != nil {
		if names := sp.Files.changed(ws.planFiles()); len(names) > 0 {
			what = strings.Join(names, ", and ")
		}
	}
	return fmt.Errorf("the saved plan is stale: since it was made, %s; run plan again", what)
}

// varsStale is the error for a saved plan whose variables (names, from
// differ) are not what it was made with, the recipe, its -var-files and
// state being as they were: the values came from the plan file's -var
// values (and whether it took remembered ones) or the site file.
func (sp *SavedPlan) varsStale(ws *Workspace, names []string) error {
	for i, n := range names {
		names[i] = "var." + n
	}
	are := " are"
	if len(names) == 1 {
		are = " is"
	}
	why := "the plan file was edited"
	if site := sp.Files.siteChanged(ws.planFiles()); site != "" {
		why = site + " changed since it was made"
	} else if sp.Files != nil && len(sp.Files.Site) > 0 {
		why += ": the site file is as it was"
	}
	return fmt.Errorf("the saved plan is stale: %s not what it was made with (%s); run plan again", strings.Join(names, ", ")+are, why)
}

// maxPinLines bounds the differences a refused plan lists.
const maxPinLines = 10

// pinStale is the error for a saved plan that planning again with its
// inputs does not make (diff, from engine.Plan.Pin). The recipe, its
// -var-files, state and (when the plan kept their digests) its variables
// were checked before: what changed is elsewhere.
func (sp *SavedPlan) pinStale(ws *Workspace, diff []string) error {
	site := sp.Files.siteChanged(ws.planFiles())
	why := site + " changed since it was made"
	if site == "" {
		same := []string{"the recipe"}
		if len(sp.VarFiles) > 0 {
			same = append(same, "its -var-files")
		}
		maybe := "the site file or a file the recipe reads (file, templatefile) changed"
		if sp.Files != nil { // else a plan made before it kept them
			if len(sp.Files.Site) > 0 {
				same = append(same, "the site file")
			}
			maybe = "a file the recipe reads (file, templatefile) changed"
		}
		if sp.VarDigests != nil {
			same = append(same, "its variables")
		}
		if sp.Refreshed {
			// Asked again: what the hosts answer may be what changed.
			maybe = "the hosts answer otherwise than when it was made (its refresh found drift, and apply asked them again: drift repaired, or new drift), or " + maybe
		}
		why = strings.Join(same, ", ") + " and state are as they were: " + maybe + ", or the plan file was edited, or another diffuser version made it"
	}
	if n := len(diff) - maxPinLines; n > 0 {
		diff = append(diff[:maxPinLines:maxPinLines], fmt.Sprintf("… and %d more", n))
	}
	return fmt.Errorf("the saved plan no longer matches what apply would do now (%s); run plan again:\n  %s", why, strings.Join(diff, "\n  "))
}
