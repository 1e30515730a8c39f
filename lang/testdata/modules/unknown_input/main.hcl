recipe "t" {}
hosts "server" {}
module "a" {
  source = "./mods/a"
  on     = hosts.server
  name   = "n"
  nmae   = "typo" # ERROR: Unknown module input
}
