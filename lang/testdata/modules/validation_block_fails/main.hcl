recipe "t" {}
hosts "server" {}
module "data" {
  source = "builtin/xfs-volume"
  on     = hosts.server
  device = "sdb" # ERROR: Invalid value for module input
  target = "/data"
}
