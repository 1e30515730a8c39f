recipe "t" {}

hosts "server" {}

step "2fast" { # ERROR: Invalid step name
  on  = hosts.server
  run = "true"
}
