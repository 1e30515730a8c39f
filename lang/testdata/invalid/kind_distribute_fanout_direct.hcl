# STAGE: engine
recipe "t" {}

hosts "server" { count = 2 }

step "tarball" {
  on = hosts.server
  distribute {
    source = "app.tar"
    dest   = "/opt/app.tar"
    mode   = "direct"
    fanout = 4 # ERROR: Conflicting distribute arguments
  }
}
