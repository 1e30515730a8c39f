recipe "t" {}

hosts "server" {}

step "s" {
  on  = hosts.server
  run = "true"
}

step "s" { # ERROR: Duplicate step
  on  = hosts.server
  run = "false"
}
