# STAGE: engine
recipe "t" {}

hosts "server" { count = 2 }

step "tarball" {
  on = hosts.server
  distribute {
    source    = "app.tar"
    dest      = "/opt/app.tar"
    file_mode = "0999" # ERROR: Invalid distribute file_mode
  }
}
