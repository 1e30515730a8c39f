# Terraform's version = "..." of a registry module: diffuser's modules
# have none.
recipe "t" {}
hosts "server" {
  volume "data" { size_gb = 1 }
}
module "data" {
  source  = "builtin/xfs-volume"
  version = "1.0" # ERROR: Unknown module input
  on      = hosts.server
  device  = host.volume.data.device
  target  = "/srv/data"
}
