recipe "t" {}

hosts "server" {}

step "s" {
  on  = hosts.server
  run = "systemctl start glusterd"
  service { name = "glusterd" } # ERROR: Step has more than one kind
}
