# Hostile private addresses: one would end the relay's here-document and
# run a line as root on every relay host, one is a command substitution, one
# an IPv6 address whose zone (any text to netip.ParseAddr) holds a command.
provider "static" {
  addresses = ["10.0.0.1", "10.0.0.2"]
  private_ips = [
    "10.0.0.1\nDIFFUSER_RELAY_EOF\ntouch\t/pwned", # ERROR: Invalid private address
    "$(reboot)",                                   # ERROR: Invalid private address
    "fe80::1%;touch /pwned;",                      # ERROR: Invalid private address
  ]
}
