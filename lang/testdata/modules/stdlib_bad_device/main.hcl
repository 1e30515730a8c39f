recipe "t" {}
hosts "server" {}
module "data" {
  source = "builtin/xfs-volume"
  on     = hosts.server
  device = "sdb; mkfs -t ext4 /dev/sda" # ERROR: Invalid value for module input
  target = "/data"
}
