// Package regfile reads the small files diffuser keeps beside its state
// (the workspace's SSH key, the backend marker) without waiting on them:
// a named pipe, socket, device or directory put at one of their paths is
// refused at once, naming what it is, instead of blocking the command
// forever (past Ctrl-C), and a file past the caller's limit is refused
// before it is read. The state files themselves are read by package state,
// which refuses symbolic links as well. It imports nothing of diffuser's.
package regfile
