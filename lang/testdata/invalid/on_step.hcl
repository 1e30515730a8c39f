recipe "t" {}

hosts "server" {}

step "a" {
  on  = hosts.server
  run = "true"
}

step "b" {
  on  = step.a # ERROR: step outputs not available here
  run = "true"
}
