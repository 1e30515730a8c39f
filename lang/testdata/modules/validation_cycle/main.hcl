recipe "t" {}
hosts "server" {}
# y is made from the module's output x, which is x once validated, and
# x's validation reads y.
module "a" {
  source = "./mods/a"
  on     = hosts.server
  x      = 1 # ERROR: Cycle through modules
  y      = module.a.x + 1
}
