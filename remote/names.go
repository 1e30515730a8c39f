package remote

import "fmt"

// CheckUser accepts user names that cannot be read as an option or split
// into words: letters, digits, '.', '_', '-' and a trailing '$', not
// starting with '-'.
func CheckUser(u string) error {
	ok := u != "" && len(u) <= 256 && u[0] != '-'
	for i := 0; ok && i < len(u); i++ {
		c := u[i]
		ok = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-' ||
			c == '$' && i == len(u)-1
	}
	if !ok {
		return fmt.Errorf("%q is not a user name diffuser accepts (letters, digits, '.', '_', '-', not starting with '-')", u)
	}
	return nil
}

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
