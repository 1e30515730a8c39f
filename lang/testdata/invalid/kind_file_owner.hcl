# STAGE: engine
recipe "t" {}

hosts "server" { count = 2 }

step "config" {
  on = hosts.server
  file {
    path    = "/etc/app.conf"
    content = "x"
    owner   = "ceph:ceph" # ERROR: Invalid file owner
  }
}
