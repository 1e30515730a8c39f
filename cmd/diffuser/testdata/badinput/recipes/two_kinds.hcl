recipe "bad" {}

hosts "server" {}

step "glusterd" {
  on      = hosts.server
  package = ["glusterfs-server"]
  service { name = "glusterd" } # ERROR: Step has more than one kind
}
