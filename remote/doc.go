// Package remote is diffuser's SSH transport: it connects to hosts
// (key files or ssh-agent, an optional jump host, connect retries while a
// host boots, keepalives), pins host keys (trust on first use, refused on
// change), pools one connection per host with many sessions on it, runs
// shell commands (optionally through sudo; in long-lived shells on the
// connection's sessions, see shell.go, else a session each) and uploads
// files atomically over SFTP. It also owns the step log (one file per run, RunLog) and the key pair diffuser
// generates for the hosts it launches.
//
// remote is a leaf below steps and cloud: it imports no other diffuser
// package but runner, whose Runner contract its Client satisfies directly.
//
// Lock rules: Pool.mu guards the host map only; Client.mu guards the
// current connection and the in-flight dial, and is never held while
// dialing or while a command runs.
package remote
