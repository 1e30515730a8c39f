package remote

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"
)

// Defaults applied by Config.withDefaults.
const (
	DefaultPort           = 22
	DefaultConnectTimeout = 15 * time.Second
	DefaultKeepAlive      = 30 * time.Second
	DefaultMaxSessions    = 8
)

// Config says how to reach and log in to one host.
type Config struct {
	// Name is the host's name in the recipe and in state ("" = Address).
	// Pools key connections by it and errors name the host by it.
	Name    string
	Address string // IP address or DNS name
	Port    int    // 0 = 22
	User    string

	// KeyFiles are private key files tried in order. Encrypted keys are
	// refused: load them into an ssh-agent instead.
	KeyFiles []string
	// UseAgent offers the keys of the ssh-agent at AgentSocket, or at
	// $SSH_AUTH_SOCK when AgentSocket is "".
	UseAgent    bool
	AgentSocket string

	// HostKey is the recorded host key in authorized_keys format
	// ("ssh-ed25519 AAAA..."). "" means trust on first use: the key the host
	// offers is accepted, passed to OnHostKey and pinned for reconnects.
	HostKey string
	// OnHostKey is called with the key (authorized_keys format, no newline)
	// accepted on first use, so that the caller records it in state. An
	// error refuses the connection.
	OnHostKey func(key string) error

	// Jump is the host to connect through (ProxyJump). It may itself have a
	// Jump. Its HostKey and OnHostKey pin its key as a target's are: trust
	// on first use, a changed key refused.
	Jump *Config
	// JumpAddress is set on a jump host's own Config: its address as the
	// user names it to forget its key ("host" or "host:port"). A changed
	// key error then speaks of a jump host.
	JumpAddress string
	// Workspace is the workspace's name, for the command a changed host
	// key error tells the user to run ("" = the placeholder WORKSPACE).
	Workspace string

	// Sudo runs commands through `sudo -n` and moves uploads into place
	// with sudo when User is not root.
	Sudo bool

	// ConnectTimeout bounds one attempt: TCP connect plus SSH handshake
	// (0 = 15s).
	ConnectTimeout time.Duration
	// RetryFor keeps retrying a failed connect (connection refused or
	// reset, no route, timeout, EOF during the handshake) with backoff for
	// this long, while a host boots. 0 = one attempt. Authentication and
	// host-key failures are never retried.
	RetryFor time.Duration
	// KeepAlive is the interval between keepalive@openssh.com requests; a
	// connection that answers none for 3 intervals is closed (0 = 30s,
	// negative = off).
	KeepAlive time.Duration
	// MaxSessions caps concurrent sessions on one connection (0 = 8, below
	// OpenSSH's default MaxSessions of 10). A server with a lower limit is
	// detected and honoured.
	MaxSessions int
	// NoShell runs every command in a session of its own. By default a
	// command without stdin runs in a long-lived shell on the connection
	// (see Client.Run), and only falls back to a session when the host
	// cannot run one.
	NoShell bool
}

func (c Config) withDefaults() Config {
	if c.Port == 0 {
		c.Port = DefaultPort
	}
	if c.Name == "" {
		c.Name = c.Address
	}
	if c.ConnectTimeout <= 0 {
		c.ConnectTimeout = DefaultConnectTimeout
	}
	if c.KeepAlive == 0 {
		c.KeepAlive = DefaultKeepAlive
	}
	if c.MaxSessions <= 0 {
		c.MaxSessions = DefaultMaxSessions
	}
	return c
}

func (c Config) validate() error {
	var errs []error
	if c.Address == "" {
		errs = append(errs, errors.New("address is empty"))
	}
	if c.User == "" {
		errs = append(errs, errors.New("user is empty"))
	}
	if c.Port < 0 || c.Port > 65535 {
		errs = append(errs, fmt.Errorf("port %d out of range", c.Port))
	}
	if len(c.KeyFiles) == 0 && !c.UseAgent {
		errs = append(errs, errors.New("no key files and ssh-agent not enabled: nothing to authenticate with"))
	}
	if c.Jump != nil {
		if err := c.Jump.withDefaults().validate(); err != nil {
			errs = append(errs, fmt.Errorf("jump host: %w", err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("host %s: invalid ssh config: %w", c.Name, err)
	}
	return nil
}

// addr is host:port for dialing.
func (c Config) addr() string {
	return net.JoinHostPort(c.Address, strconv.Itoa(c.Port))
}

// poolKey identifies a connection: the same name reached as another
// user, through another address, with other keys or through other jump
// hosts is another connection. A client keeps the keys it was made with:
// a host whose key was rotated (the old one no longer authorized) must not
// be handed the client that offers the old one.
func (c Config) poolKey() string {
	k := c.Name + "\x00" + c.User + "@" + c.addr() + "\x00" + strings.Join(c.KeyFiles, "\x00") +
		fmt.Sprintf("\x00agent=%t:%s", c.UseAgent, c.AgentSocket)
	if c.Jump != nil {
		k += "\x00via\x00" + c.Jump.withDefaults().poolKey()
	}
	return k
}

// root reports whether commands already run as root, so sudo is not needed.
func (c Config) root() bool { return c.User == "root" }
