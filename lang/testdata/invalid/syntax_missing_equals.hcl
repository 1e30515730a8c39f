recipe "t" {}

hosts "server" {
  count 2 # ERROR: Argument or block definition required
}
