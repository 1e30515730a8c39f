provider "static" {
  addresses = ["10.0.0.1", "10.0.0.2"]
  user      = "root; rm -rf /" # ERROR: Invalid user
  jump      = "ops@:22"        # ERROR: Invalid jump host
}
