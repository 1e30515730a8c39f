recipe "t" {}
hosts "server" {}
module "a" {
  source = "./mods/a"
  on     = hosts.server
  lifecycle {
    prevent_destroy = true # ERROR: Unsupported argument
  }
}
