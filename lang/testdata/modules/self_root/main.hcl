recipe "t" {}
hosts "server" {}
module "a" {
  source = "./" # ERROR: Module includes itself
  on     = hosts.server
}
