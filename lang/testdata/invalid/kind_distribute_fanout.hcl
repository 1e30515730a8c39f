# STAGE: engine
recipe "t" {}

hosts "server" { count = 2 }

step "tarball" {
  on = hosts.server
  distribute {
    source = "app.tar"
    dest   = "/opt/app.tar"
    fanout = 0 # ERROR: Invalid distribute fanout
  }
}
