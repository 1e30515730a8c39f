recipe "t" {}

hosts "server" {
  count = -1 # ERROR: Value out of range
}
