recipe "t" {}
hosts "server" {}
locals {
  x = module.a.out # ERROR: Cycle through modules
}
module "a" {
  source = "./mods/a"
  on     = hosts.server
  y      = local.x
}
