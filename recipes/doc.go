// Package recipes embeds the built-in filesystem recipes, one directory
// each. It is a leaf: it imports nothing from diffuser.
package recipes
