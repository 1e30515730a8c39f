package lang

import (
	"fmt"
	"sort"
	"strings"

	"github.com/zclconf/go-cty/cty"
)

// attrTypoHint explains a value that does not convert to an object type
// because an attribute is misspelt: conversion only says the right name
// is required (and drops the wrong one). It returns " The value has
// client, which the type does not: did you mean clients?" for each
// attribute the type lacks, with the nearest missing attribute, or "".
func attrTypoHint(val cty.Value, ty cty.Type) string {
	if !ty.IsObjectType() || val.IsNull() || !val.IsKnown() {
		return ""
	}
	vt := val.Type()
	if !vt.IsObjectType() && !vt.IsMapType() {
		return ""
	}
	have := map[string]bool{}
	for it := val.ElementIterator(); it.Next(); {
		k, _ := it.Element()
		have[k.AsString()] = true
	}
	var missing, extra []string
	for name := range ty.AttributeTypes() {
		if !have[name] && !ty.AttributeOptional(name) {
			missing = append(missing, name)
		}
	}
	for name := range have {
		if !ty.HasAttribute(name) {
			extra = append(extra, name)
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	var b strings.Builder
	for _, e := range extra {
		if s := suggest(e, missing); s != "" {
			fmt.Fprintf(&b, " The value has %s, which the type does not: did you mean %s?", e, s)
		}
	}
	return b.String()
}
