# enabled = ... as an attribute of the call, as OpenTofu writes it, where
# diffuser wants lifecycle { enabled = ... }: the module has no such input.
recipe "t" {}
variable "want" {
  type    = bool
  default = false
}
hosts "server" {
  volume "data" { size_gb = 1 }
}
module "data" {
  source  = "builtin/xfs-volume"
  on      = hosts.server
  enabled = var.want # ERROR: Unknown module input
  device  = host.volume.data.device
  target  = "/srv/data"
}
