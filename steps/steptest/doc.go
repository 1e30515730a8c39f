// Package steptest holds in-process fakes for testing step kinds and the
// code that drives them without a host: Runner answers commands from
// scripted facts and records every command and upload (pyinfra's "facts
// in, commands out"), Clock makes polling instant, and DecodeArgs/RawArgs
// build a kind's argument object from JSON the way the recipe loader does.
// It imports steps and must not import engine or lang.
package steptest
