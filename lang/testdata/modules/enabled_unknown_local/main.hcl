recipe "t" {}
hosts "server" {}
module "a" {
  source = "./mods/a"
  on     = hosts.server
  lifecycle {
    enabled = local.nope # ERROR: Unknown local value
  }
}
