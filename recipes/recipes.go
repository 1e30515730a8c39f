package recipes

import (
	"embed"
	"io/fs"
	"sort"
)

//go:embed */*.hcl
var files embed.FS

// FS returns the built-in recipes: one directory per recipe.
func FS() fs.FS { return files }

// Names lists the built-in recipes.
func Names() []string {
	ents, _ := fs.ReadDir(files, ".")
	var out []string
	for _, e := range ents {
		if e.IsDir() {
			out = append(out, e.Name())
		}
	}
	sort.Strings(out)
	return out
}

// Has says whether name is a built-in recipe.
func Has(name string) bool {
	_, err := fs.Stat(files, name)
	return err == nil
}
