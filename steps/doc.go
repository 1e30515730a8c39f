// Package steps holds one file per step kind. A kind reads facts from the
// host through a Runner, emits only the commands still needed and says when
// there is nothing to do. It takes cty values and must not import engine or lang.
package steps
