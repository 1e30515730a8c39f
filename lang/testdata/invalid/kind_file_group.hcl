# STAGE: engine
recipe "t" {}

hosts "server" {}

step "config" {
  on = hosts.server
  file {
    path    = "/etc/ceph/ceph.conf"
    content = "x"
    group   = "-ceph" # ERROR: Invalid file group
  }
}
