# STAGE: engine
recipe "t" {}

hosts "server" { count = 2 }

step "tarball" {
  on = hosts.server
  distribute {
    source = "app.tar"
    dest   = "/opt/app.tar"
    mode   = "direct"
    port   = 2200 # ERROR: Conflicting distribute arguments
  }
}
