recipe "t" {}

hosts "server" {}

step "s" {
  on = hosts.server
  service { name = "glusterd" }
  service { name = "rpcbind" } # ERROR: Step has more than one kind
}
