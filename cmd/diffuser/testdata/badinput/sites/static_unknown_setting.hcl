provider "static" {
  addresses = ["10.0.0.1", "10.0.0.2"]
  prot      = 22 # ERROR: Unsupported argument
}
