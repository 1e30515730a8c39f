// Package ports reads the entries of a recipe's `ports` attribute
// ("24007-24008/tcp glusterd"): lang checks them where the recipe writes
// them, and cloud hands them to the providers that open firewalls (aws),
// so both hold an entry to the same rules. It imports nothing of
// diffuser's.
package ports
