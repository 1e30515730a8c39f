package static

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	osuser "os/user"
	"path/filepath"
	"strconv"
	"strings"

	"diffuser/internal/regfile"

	"github.com/kevinburke/ssh_config"
)

// The files ssh reads when no -F is given: the user's, then the system's.
const systemSSHConfig = "/etc/ssh/ssh_config"

// sshConfig is the OpenSSH client configuration the static provider reads
// for a host, as ssh reads it: files searched in order, Host blocks matched
// on the host as written (alias), the first value of a keyword wins and
// IdentityFile entries add up.
//
// The library (kevinburke/ssh_config) returns values as written: it expands
// neither ~ nor %-tokens nor ${VAR} in them, and supports `Match host` and
// `Match all` only (any other Match is a parse error). This file expands
// what ssh expands in the keywords diffuser reads.
type sshConfig struct {
	// Setting is what state records for `diffuser ssh`: "" for ssh's own
	// default files, "none" when ignored, else the absolute path it reads
	// (ssh -F PATH).
	Setting string
	files   []*ssh_config.Config
	names   []string // file names, for errors
}

// loadSSHConfig reads the files the site's ssh_config setting names: nil
// (unset) is ssh's default pair (~/.ssh/config, then /etc/ssh/ssh_config,
// each only if present); "", "none" or "false" read nothing; a path reads
// that file only, which must exist (as ssh -F does).
func loadSSHConfig(setting *string) (*sshConfig, error) {
	if setting == nil {
		home, err := userHome()
		if err != nil {
			return nil, fmt.Errorf("finding ~/.ssh/config: %w; set ssh_config in the static provider's settings to a file, or to \"\" to read none", err)
		}
		return loadSSHConfigFiles("", true, filepath.Join(home, ".ssh", "config"), systemSSHConfig)
	}
	switch *setting {
	case "", "none", "false":
		return &sshConfig{Setting: "none"}, nil
	}
	p, err := expandTilde(*setting)
	if err != nil {
		return nil, fmt.Errorf("static provider setting ssh_config %q: %w", *setting, err)
	}
	if p, err = filepath.Abs(p); err != nil {
		return nil, fmt.Errorf("static provider setting ssh_config %q: %w", *setting, err)
	}
	return loadSSHConfigFiles(p, false, p)
}

// maxSSHConfig bounds an ssh config file diffuser reads.
const maxSSHConfig = 16 << 20

// loadSSHConfigFiles parses files in search order. Missing files are
// skipped when optional, else an error.
func loadSSHConfigFiles(setting string, optional bool, files ...string) (*sshConfig, error) {
	c := &sshConfig{Setting: setting}
	for _, f := range files {
		// Opened without waiting and bounded: a named pipe there blocked
		// the command, /dev/zero or a huge file filled memory.
		b, err := regfile.Read(f, maxSSHConfig)
		if optional && errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("reading ssh config: %w: fix the static provider's ssh_config setting, or set ssh_config = \"\" to read none", err)
		}
		cfg, err := ssh_config.Decode(bytes.NewReader(b))
		if err != nil {
			return nil, fmt.Errorf("ssh config %s: %v (diffuser reads Host blocks, `Match host` and `Match all`): "+
				"fix it, or point the static provider's ssh_config setting at another file, or set ssh_config = \"\" to ignore it", f, err)
		}
		c.files = append(c.files, cfg)
		c.names = append(c.names, f)
	}
	return c, nil
}

// get is the first value of key for host, from the first file that has one.
func (c *sshConfig) get(host, key string) (value, file string, err error) {
	for i, f := range c.files {
		v, err := f.Get(host, key)
		if err != nil {
			return "", "", fmt.Errorf("ssh config %s: %s for %s: %w", c.names[i], key, host, err)
		}
		if v != "" {
			return v, c.names[i], nil
		}
	}
	return "", "", nil
}

// getAll is every value of key for host, in file order.
func (c *sshConfig) getAll(host, key string) ([]string, error) {
	var out []string
	for i, f := range c.files {
		vs, err := f.GetAll(host, key)
		if err != nil {
			return nil, fmt.Errorf("ssh config %s: %s for %s: %w", c.names[i], key, host, err)
		}
		out = append(out, vs...)
	}
	return out, nil
}

// userHome is the home directory ssh uses: the password database's, else
// $HOME.
func userHome() (string, error) {
	if u, err := osuser.Current(); err == nil && u.HomeDir != "" {
		return u.HomeDir, nil
	}
	return os.UserHomeDir()
}

// expandTilde expands a leading ~ or ~/ (the user's home) or ~name/
// (name's home), as ssh does in IdentityFile and -F.
func expandTilde(p string) (string, error) {
	if !strings.HasPrefix(p, "~") {
		return p, nil
	}
	name, rest, _ := strings.Cut(p[1:], "/")
	var home string
	if name == "" {
		h, err := userHome()
		if err != nil {
			return "", err
		}
		home = h
	} else {
		u, err := osuser.Lookup(name)
		if err != nil {
			return "", fmt.Errorf("expanding %q: %w", p, err)
		}
		home = u.HomeDir
	}
	return filepath.Join(home, rest), nil
}

// tokens are the values of ssh's %-tokens for one host.
type tokens map[byte]string

// expandTokens replaces %-tokens (%% is a literal %) and, when env, ${VAR}
// with the environment's value, as ssh does for IdentityFile. A token not in
// t, or an unset variable, is an error naming the keyword.
func expandTokens(keyword, v string, t tokens, env bool) (string, error) {
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		switch {
		case v[i] == '%':
			if i+1 >= len(v) {
				return "", fmt.Errorf("%s %q ends with a lone %%", keyword, v)
			}
			i++
			if v[i] == '%' {
				b.WriteByte('%')
				continue
			}
			val, ok := t[v[i]]
			if !ok {
				return "", fmt.Errorf("%s %q: token %%%c is not one diffuser expands (it knows %s)", keyword, v, v[i], t.known())
			}
			b.WriteString(val)
		case env && v[i] == '$' && i+1 < len(v) && v[i+1] == '{':
			end := strings.IndexByte(v[i:], '}')
			if end < 0 {
				return "", fmt.Errorf("%s %q: unterminated ${", keyword, v)
			}
			name := v[i+2 : i+end]
			val, ok := os.LookupEnv(name)
			if !ok {
				return "", fmt.Errorf("%s %q: environment variable %s is not set", keyword, v, name)
			}
			b.WriteString(val)
			i += end
		default:
			b.WriteByte(v[i])
		}
	}
	return b.String(), nil
}

func (t tokens) known() string {
	var ks []string
	for _, k := range "%CdhijkLlnpru" {
		if _, ok := t[byte(k)]; ok || k == '%' {
			ks = append(ks, "%"+string(k))
		}
	}
	return strings.Join(ks, " ")
}

// identityTokens are the tokens ssh expands in IdentityFile for a host:
// %d home, %u local user, %l local host name, %h the host name dialed, %n
// the host as written, %p port, %r remote user, %i uid.
func identityTokens(alias, hostname string, port int, user string) (tokens, error) {
	t := tokens{'h': hostname, 'n': alias, 'p': strconv.Itoa(port), 'r': user, 'i': strconv.Itoa(os.Getuid())}
	home, err := userHome()
	if err != nil {
		return nil, err
	}
	t['d'] = home
	if u, err := osuser.Current(); err == nil {
		t['u'] = u.Username
	}
	if h, err := os.Hostname(); err == nil {
		t['L'] = h
		t['l'] = h
		if short, _, ok := strings.Cut(h, "."); ok {
			t['L'] = short
		}
	}
	return t, nil
}
