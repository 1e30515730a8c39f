recipe "t" {}
hosts "server" {}
module "a" {
  source  = "./mods/a"
  on      = hosts.server
  servers = 4
  replica = 2
}
