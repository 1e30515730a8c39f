recipe "t" {}
hosts "server" {}
module "a" {
  source = "./mods/a"
  on     = hosts.server
  lifecycle {
    enabled = "yes" # ERROR: Invalid module enabled
  }
}
