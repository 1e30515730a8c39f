recipe "t" {}

hosts "server" {}

step "volume" {
  on  = hosts.server
  run = "gluster volume create gv0 ${local.brikcs}" # ERROR: Unknown local value
}
