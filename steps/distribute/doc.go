// Package distribute is the distribute step kind (Kind): it delivers one
// large file to every host of a step, relayed host to host over SSH
// (relay*.go, with the hop script relay/hop.sh embedded) or sent directly
// by the operator, resuming part files and checking digests
// (docs/distribute.md).
//
// distribute imports steps for the Kind contract and its shared helpers,
// and runner for the command contract. It must not import engine, lang,
// cmd or steps/builtin (which imports it).
package distribute
