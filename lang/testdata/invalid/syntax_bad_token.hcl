recipe "t" {}

hosts "server" {
  count = = 2 # ERROR: Invalid expression
}
