package remote

import (
	"errors"
	"fmt"

	"diffuser/internal/regfile"

	"golang.org/x/crypto/ssh"
)

// UsableKeyFile returns nil when the private key at path can be offered
// without a passphrase, else why not (missing, unreadable, encrypted, not
// a key). Callers skip such optional keys as ssh skips an IdentityFile it
// cannot use; an encrypted one is offered by the ssh-agent that holds it.
func UsableKeyFile(path string) error {
	pem, err := regfile.Read(path, maxKeyFile)
	if err != nil {
		return err
	}
	_, err = ssh.ParsePrivateKey(pem)
	var missing *ssh.PassphraseMissingError
	if errors.As(err, &missing) {
		return fmt.Errorf("ssh key %s is encrypted", path)
	}
	if err != nil {
		return fmt.Errorf("parsing ssh key %s: %w", path, err)
	}
	return nil
}
