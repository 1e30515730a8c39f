package workspace

import "fmt"

// CheckName accepts a workspace name: 1 to 100 letters, digits, '_', '-'
// and '.', starting with a letter, digit or '_'. A workspace name becomes
// a directory under the data directory (state, journal, lock, SSH key,
// runs), a cluster name in labels and tags and a word of the known_hosts
// aliases, so nothing that could leave the data directory (`/`, `..`, an
// absolute path) or be read as an option passes.
func CheckName(name string) error {
	ok := name != "" && len(name) <= 100 && name[0] != '.' && name[0] != '-'
	for i := 0; ok && i < len(name); i++ {
		c := name[i]
		ok = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.'
	}
	if !ok {
		return fmt.Errorf("%q is not a workspace name: use 1 to 100 letters, digits, '_', '-' and '.', starting with a letter, digit or '_' "+
			"(it names a directory under the data directory, so no '/', no '..', no absolute path)", name)
	}
	return nil
}
