recipe "t" {}
hosts "server" {}
module "a" {
  source = "./mods/a"
  on     = hosts.server
  port   = 0 # ERROR: Invalid value for module input
}
