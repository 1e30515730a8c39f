recipe "t" {}
hosts "server" {}
module "data" {
  source = "builtin/xfs-volume"
  on     = hosts.server
  devise = "/dev/xvdf" # ERROR: Unknown module input
  target = "/data"
}
