// Package text says whether bytes from outside (a -var flag, what a host
// printed for a capture) can become a recipe value unchanged: state is JSON,
// which holds UTF-8 text only, and values end up in commands, which cannot
// hold a NUL. It imports nothing of diffuser's.
package text
