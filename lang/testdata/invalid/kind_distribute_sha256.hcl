# STAGE: engine
recipe "t" {}

hosts "server" { count = 2 }

step "tarball" {
  on = hosts.server
  distribute {
    source = "app.tar"
    dest   = "/opt/app.tar"
    sha256 = "9f86d081884c7d659a2feaa0c55ad015" # ERROR: Invalid distribute sha256
  }
}
