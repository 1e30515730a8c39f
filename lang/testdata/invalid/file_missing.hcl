recipe "t" {}

hosts "server" {}

step "conf" {
  on = hosts.server
  file {
    path    = "/etc/glusterfs/glusterd.vol"
    content = file("glusterd.vol") # ERROR: Error in function call
  }
}
