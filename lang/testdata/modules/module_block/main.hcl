recipe "t" {}
hosts "server" {}
module "a" {
  source = "./mods/a"
  on     = hosts.server
  extra { x = 1 } # ERROR: Block in a module call
}
