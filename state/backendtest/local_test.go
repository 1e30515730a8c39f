package backendtest_test

import (
	"os"
	"path/filepath"
	"testing"

	"diffuser/state"
	"diffuser/state/backendtest"
)

// TestLocalContract runs the backend contract on the local state
// directory, today's behaviour.
func TestLocalContract(t *testing.T) {
	backendtest.Run(t, func(t *testing.T) backendtest.Target {
		dir := filepath.Join(t.TempDir(), "ws")
		return backendtest.Target{
			Open: func(o backendtest.Options) backendtest.Backend {
				return state.Open(dir, state.WithLockWait(o.LockWait), state.WithKey(o.Key))
			},
			Raw: func() map[string][]byte {
				out := map[string][]byte{}
				ents, _ := os.ReadDir(dir)
				for _, e := range ents {
					if b, err := os.ReadFile(filepath.Join(dir, e.Name())); err == nil {
						out[e.Name()] = b
					}
				}
				return out
			},
			Put: func(name string, data []byte) {
				if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
					t.Fatal(err)
				}
			},
		}
	})
}
