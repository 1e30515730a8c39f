recipe "t" {}
hosts "server" {}
module "a" {
  source = "./mods/a"
  on     = hosts.server
  size   = "big" # ERROR: Invalid value for module input
}
