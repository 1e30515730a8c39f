recipe "t" {}
hosts "server" {
  volume "brick" { size_gb = 1 }
}
module "data" {
  source = "builtin/xfs-volume"
  on     = hosts.server
  device = host.volume.brik.device # ERROR: Unknown volume
  target = "/data"
}
