recipe "t" {}
hosts "server" {}
module "a" {
  source = "builtin/xfs-volum" # ERROR: Unknown built-in module
  on     = hosts.server
}
