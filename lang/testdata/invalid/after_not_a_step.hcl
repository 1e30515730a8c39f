recipe "t" {}

hosts "server" {}

step "s" {
  on    = hosts.server
  after = [hosts.server] # ERROR: Invalid after entry
  run   = "true"
}
