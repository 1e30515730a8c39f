recipe "t" {}

hosts "server" {}

precondition { # ERROR: Missing required argument
  condition = true
}

step "s" {
  on  = hosts.server
  run = "true"
}
