recipe "t" {}

hosts "server" {}

step "s" {
  on      = hosts.server
  run     = "apt-get install -y xfsprogs"
  package = ["xfsprogs"] # ERROR: Step has more than one kind
}
