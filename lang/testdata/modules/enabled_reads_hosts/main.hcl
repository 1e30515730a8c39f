recipe "t" {}
hosts "server" {}
locals {
  some = length(hosts.server) > 0
}
module "a" {
  source = "./mods/a"
  on     = hosts.server
  lifecycle {
    enabled = local.some # ERROR: Value not known yet
  }
}
