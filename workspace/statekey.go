package workspace

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"diffuser/internal/regfile"
	"diffuser/state"
)

// Environment variables that give the state encryption key.
const (
	StateKeyEnv     = "DIFFUSER_STATE_KEY"      // the key itself
	StateKeyFileEnv = "DIFFUSER_STATE_KEY_FILE" // a file holding it
)

// StateKeyFromEnv reads the state encryption key from the environment
// (getenv is os.Getenv outside tests): DIFFUSER_STATE_KEY, or the file
// DIFFUSER_STATE_KEY_FILE names. Neither set: nil, no encryption. Both
// set, an unreadable file or a key file others can read are errors: a
// key that silently does not apply would write state in clear.
func StateKeyFromEnv(getenv func(string) string) (*state.Key, error) {
	val, file := getenv(StateKeyEnv), getenv(StateKeyFileEnv)
	switch {
	case val != "" && file != "":
		return nil, fmt.Errorf("both %s and %s are set: set one", StateKeyEnv, StateKeyFileEnv)
	case file != "":
		fi, err := os.Stat(file)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", StateKeyFileEnv, err)
		}
		// What the variable names is the user's: a directory, a device or
		// a shell's <(...) pipe is not a key file, and is neither to be
		// chmod-ed (/tmp, /dev/null) nor removed (/dev/fd/63).
		if !fi.Mode().IsRegular() {
			return nil, notKeyFile(file, regfile.Kind(fi.Mode()))
		}
		if fi.Mode().Perm()&0o077 != 0 {
			return nil, fmt.Errorf("%s: %s is readable by others (mode %v): chmod 600 it", StateKeyFileEnv, file, fi.Mode().Perm())
		}
		// Opened without waiting: a named pipe there blocked every command.
		b, err := regfile.Read(file, maxKeyFile)
		var nr *regfile.NotRegularError
		if errors.As(err, &nr) { // replaced since the Stat
			return nil, notKeyFile(file, nr.Kind)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", StateKeyFileEnv, err)
		}
		val = strings.TrimSpace(string(b))
		if val == "" {
			return nil, fmt.Errorf("%s: %s is empty", StateKeyFileEnv, file)
		}
		k, err := state.ParseKey(val)
		if err != nil {
			return nil, fmt.Errorf("%s (%s): %w", StateKeyFileEnv, file, err)
		}
		return k, nil
	case val != "":
		k, err := state.ParseKey(val)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", StateKeyEnv, err)
		}
		return k, nil
	}
	return nil, nil
}

// notKeyFile is the error for a DIFFUSER_STATE_KEY_FILE that names
// something of kind ("a directory") other than a regular file.
func notKeyFile(file, kind string) error {
	return fmt.Errorf("%s: %s is %s, not a file holding the key: point %s at one (mode 0600), or give the key itself in %s (%s=\"$(COMMAND)\" for a key a command prints)",
		StateKeyFileEnv, file, kind, StateKeyFileEnv, StateKeyEnv, StateKeyEnv)
}

// maxKeyFile bounds a state key file: a key is 64 hex digits, a
// passphrase a line.
const maxKeyFile = 64 << 10

// stateOpts are the options every state store of this environment opens
// with: its encryption key.
func (e *Env) stateOpts(more ...state.Option) []state.Option {
	return append([]state.Option{state.WithKey(e.StateKey)}, more...)
}
