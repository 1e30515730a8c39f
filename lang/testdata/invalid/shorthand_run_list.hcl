recipe "t" {}

hosts "server" {}

step "s" {
  on  = hosts.server
  run = ["gluster", "volume", "start", "gv0"] # ERROR: Invalid value for run
}
