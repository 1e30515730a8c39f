recipe "t" {}
hosts "server" {}
module "a" {
  source = "./mods/a"
  on     = hosts.server
  count  = 2 # ERROR: Unsupported module argument
}
