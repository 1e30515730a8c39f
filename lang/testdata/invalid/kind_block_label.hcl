recipe "t" {}

hosts "server" {}

step "svc" {
  on = hosts.server
  service "glusterd" { # ERROR: Extraneous label for service
    name = "glusterd"
  }
}
