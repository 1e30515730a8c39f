recipe "t" {}

hosts "server" {}

step "svc" {
  on = hosts.server
  service {
    name = uppercase("glusterd") # ERROR: Call to unknown function
  }
}
