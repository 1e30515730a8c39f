// Package facts gathers what a host is: its OS (from /etc/os-release),
// architecture, cores, memory and block devices. Command is one POSIX sh
// script, the same on every host, that prints each source in a section;
// Parse reads that output into Facts. Parsing never needs a host, so it is
// tested from golden fact files (testdata/*.txt, the raw output of real
// systems and hostile variants) against the JSON they must give.
//
// facts imports only runner (for Gather). The engine gathers facts once per
// host after launch and on refresh, state records them as JSON, and lang
// shows them to recipes as host.facts.
package facts
