package lang

import (
	"bytes"
	"fmt"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
)

// Format returns src, the text of the file name, in HCL's canonical layout
// (hclwrite.Format: indentation, aligned equals signs, spacing), as
// `terraform fmt` lays out Terraform files. A file that is too large, is
// not text, or does not parse is refused with diagnostics and no output:
// the layout of a broken file is not worth guessing, and rewriting it could
// lose what the author meant.
func Format(name string, src []byte) ([]byte, hcl.Diagnostics) {
	if d := checkText(name, src, int64(len(src))); d != nil {
		return nil, hcl.Diagnostics{d}
	}
	if _, diags := hclsyntax.ParseConfig(src, name, hcl.InitialPos); diags.HasErrors() {
		return nil, diags
	}
	out := hclwrite.Format(src)
	if bytes.Equal(out, src) {
		return src, nil
	}
	return out, nil
}

// FormatFile reads the file at path with the limits of recipe and site
// files (a regular file, symlinks followed, at most MaxFileSize bytes) and
// returns its text and its canonical layout (see Format).
func FormatFile(path string) (src, out []byte, diags hcl.Diagnostics) {
	b, size, err := readOSText(path)
	if err != nil {
		return nil, nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Cannot read file",
			Detail: fmt.Sprintf("%v.", err)}}
	}
	if d := checkText(path, b, size); d != nil {
		return nil, nil, hcl.Diagnostics{d}
	}
	out, diags = Format(path, b)
	return b, out, diags
}
