# Outputs of a call that is off read bare, in a local and in another
# call's input: each error says the call is off and how to read it.
recipe "t" {}
variable "want" {
  type    = bool
  default = false
}
hosts "node" {
  volume "data" { size_gb = 1 }
}
module "data" {
  source = "builtin/xfs-volume"
  on     = hosts.node
  device = host.volume.data.device
  target = "/srv/data"
  lifecycle {
    enabled = var.want
  }
}
module "svc" {
  source  = "builtin/systemd-unit"
  on      = hosts.node
  name    = "x"
  content = "[Service]\nWorkingDirectory=${module.data.target}\n" # ERROR: Attempt to get attribute from null value
}
locals {
  where = module.data.target # ERROR: Attempt to get attribute from null value
}
