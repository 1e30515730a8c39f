recipe "t" {}

hosts "server" {}

step "s" {
  on            = hosts.server
  when_replaced = hosts.server[0] # ERROR: Invalid when_replaced
  run           = "true"
}
