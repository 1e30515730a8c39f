recipe "t" {}

hosts "server" {
  count = 1000000000 # ERROR: Value out of range
}
