recipe "t" {}
hosts "server" {}
hosts "client" {}
module "a" {
  source  = "./mods/a"
  on      = hosts.server
  clients = hosts.client
  word    = "x"
}
