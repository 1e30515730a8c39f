package main

import (
	"os"
	"strings"
	"testing"
)

// TestREADMEListsEveryCommand: the first column of README's command table
// names every command of the CLI, and no command the CLI does not have.
func TestREADMEListsEveryCommand(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, table, ok := strings.Cut(string(b), "| command | what it does |\n|---|---|\n")
	if !ok {
		t.Fatal("README has no command table")
	}
	table, _, _ = strings.Cut(table, "\n\n")
	listed := map[string]bool{}
	for _, row := range strings.Split(table, "\n") {
		first, _, _ := strings.Cut(strings.TrimPrefix(row, "| "), " | ")
		spans := strings.Split(first, "`")
		for i := 1; i < len(spans); i += 2 { // inside backticks
			if name := strings.Fields(spans[i])[0]; !strings.HasPrefix(name, "-") {
				listed[name] = true
			}
		}
	}
	root := (&app{}).rootCmd()
	have := map[string]bool{}
	for _, c := range root.Commands() {
		if c.Hidden || c.Name() == "help" {
			continue
		}
		have[c.Name()] = true
		if !listed[c.Name()] {
			t.Errorf("README's command table does not list %q", c.Name())
		}
	}
	for name := range listed {
		if !have[name] {
			t.Errorf("README's command table lists %q, which is not a command", name)
		}
	}
}
