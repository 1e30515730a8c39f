recipe "t" {}

hosts "server" {}

step "s" {
  on            = hosts.server
  when_replaced = hosts.servers # ERROR: Unknown host group
  run           = "true"
}
