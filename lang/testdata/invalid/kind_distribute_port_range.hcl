# STAGE: engine
recipe "t" {}

hosts "server" { count = 2 }

step "tarball" {
  on = hosts.server
  distribute {
    source = "app.tar"
    dest   = "/opt/app.tar"
    port   = 65530 # ERROR: Invalid distribute port
  }
}
