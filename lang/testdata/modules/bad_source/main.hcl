recipe "t" {}
hosts "server" {}
module "a" {
  source = "github.com/acme/mods" # ERROR: Invalid module source
  on     = hosts.server
}
