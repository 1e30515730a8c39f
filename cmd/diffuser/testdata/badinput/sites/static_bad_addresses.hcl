provider "static" {
  hosts "server" {
    addresses = [
      "10.0.0.1:99999",  # ERROR: Invalid address
      "admin@10.0.0.1",
      "10.0.0.1:22",     # ERROR: Duplicate address
    ]
  }
}
