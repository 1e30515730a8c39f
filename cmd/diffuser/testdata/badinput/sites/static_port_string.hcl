provider "static" {
  addresses = ["10.0.0.1", "10.0.0.2"]
  port      = "twenty-two" # ERROR: Incorrect attribute value type
}
