package remote

import "fmt"

// CheckHost accepts DNS names and IPv4/IPv6 addresses: letters, digits,
// '.', '-', '_' and ':', not starting with '-'.
func CheckHost(h string) error {
	ok := h != "" && len(h) <= 253 && h[0] != '-'
	for i := 0; ok && i < len(h); i++ {
		c := h[i]
		ok = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_' || c == ':'
	}
	if !ok {
		return fmt.Errorf("%q is not a host name or IP address (letters, digits, '.', '-', '_', ':', not starting with '-')", h)
	}
	return nil
}
