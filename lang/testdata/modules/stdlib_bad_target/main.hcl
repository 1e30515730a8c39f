recipe "t" {}
hosts "server" {}
module "data" {
  source = "builtin/xfs-volume"
  on     = hosts.server
  device = "/dev/sdb"
  target = "/data/../etc $(reboot)" # ERROR: Invalid value for module input
}
