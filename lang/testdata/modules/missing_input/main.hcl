recipe "t" {}
hosts "server" {}
module "a" { # ERROR: Missing module input
  source = "./mods/a"
  on     = hosts.server
}
