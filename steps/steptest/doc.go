// Package steptest holds in-process fakes for testing step kinds and the
// code that drives them without a host: Runner answers commands from
// scripted facts and records every command and upload (pyinfra's "facts
// in, commands out"), Clock makes polling instant, and DecodeArgs/RawArgs
// build a kind's argument object from JSON the way the recipe loader does.
// RunCases is the golden-file harness every kind package's TestKinds
// calls (testdata/<kind>/*.json, see steps/testdata/README.md).
// It imports steps and runner and must not import engine or lang.
package steptest
