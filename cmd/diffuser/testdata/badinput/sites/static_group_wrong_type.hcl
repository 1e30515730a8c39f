provider "static" {
  user = "admin"
  hosts "server" {
    addresses = "10.0.0.1" # ERROR: Incorrect attribute value type
  }
}
