recipe "t" {}

hosts "server" {}

step "s" {
  on = hosts.server
  service { name = "glusterd" }
  capture { # ERROR: capture is only valid for run steps
    pid = "pidof glusterd"
  }
}
