# STAGE: engine
recipe "t" {}

hosts "server" { count = 2 }

step "tarball" {
  on = hosts.server
  distribute {
    source = "ftp://mirror.example/app.tar" # ERROR: Invalid distribute source
    dest   = "/opt/app.tar"
  }
}
