recipe "t" {}
hosts "server" {}
module "a" {
  source = "" # ERROR: Invalid module source
  on     = hosts.server
}
