recipe "t" {}

hosts "server" {}

step "s" {
  on  = hosts.server
  run = "true"
  precondition { # ERROR: Missing required argument
    condition = true
  }
}
