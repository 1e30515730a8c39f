recipe "t" {}

hosts "server" {}

step "s" { # ERROR: Step has no kind
  on = hosts.server
}
