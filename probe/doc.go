// Package probe reads an applied filesystem through its mounts without
// changing the cluster: Verify writes a file of random bytes on one host of
// each verify block and compares its checksum on the others (stopping a
// daemon first when the block asks for failover), Bench measures write
// and read throughput on every client at once (installing fio when asked),
// and SmallFiles times creating, stat'ing and deleting many empty files on
// every client at once (an mdtest-like metadata phase). Both take the hosts and
// paths of the recipe's verify blocks, evaluated in engine's StateScope,
// and reach hosts through an engine.Connector.
//
// probe owns the verify and bench commands' meaning, compare's measurements and the shell scripts
// they run on hosts; it never prints (cmd renders its reports).
//
// probe imports engine, lang, state and steps. engine must never import
// probe, and probe must not import cmd, cloud providers or remote: hosts
// are reached only through the Connector it is given (its tests use
// cloud/sim's).
package probe
