provider "static" {
  addresses = ["10.0.0.1", "10.0.0.2"]
  port      = 99999 # ERROR: Invalid port
}
