recipe "t" {}
hosts "server" {}
module "a" {
  source = "./mods/a"
  on     = hosts.server
  lifecycle {
    enabled = module.a.out == "v" # ERROR: Cycle through modules
  }
}
