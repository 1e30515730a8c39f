package recipes

import (
	"embed"
	"io/fs"
	"slices"
	"sort"
	"strings"
)

//go:embed */*.hcl */modules/*/*.hcl
var files embed.FS

//go:embed modules/*/*.hcl
var modules embed.FS

// Modules returns the standard library of modules (`source =
// "builtin/NAME"` in a recipe): one directory per module.
func Modules() fs.FS {
	sub, err := fs.Sub(modules, "modules")
	if err != nil {
		panic(err) // the directory is embedded: cannot happen
	}
	return sub
}

// FS returns the built-in recipes: one directory per recipe.
func FS() fs.FS { return files }

// Names lists the built-in recipes.
func Names() []string {
	ents, _ := fs.ReadDir(files, ".")
	var out []string
	for _, e := range ents {
		if e.IsDir() && e.Name() != "modules" {
			out = append(out, e.Name())
		}
	}
	sort.Strings(out)
	return out
}

// Has says whether name is a built-in recipe: one of Names, not any path
// the embedded tree holds (".", a recipe's files or its modules).
func Has(name string) bool {
	return slices.Contains(Names(), name)
}

// HasRecipeModule says whether name is a module of a built-in recipe's
// own, RECIPE/modules/NAME ("ceph/modules/daemon"), which recipes show
// and recipes vars print.
func HasRecipeModule(name string) bool {
	r, m, ok := strings.Cut(name, "/modules/")
	if !ok || !Has(r) || m == "" || strings.ContainsAny(m, "/\\") || m == "." || m == ".." {
		return false
	}
	fi, err := fs.Stat(files, name)
	return err == nil && fi.IsDir()
}
