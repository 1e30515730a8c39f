recipe "t" {}
hosts "server" {}
step "old" {
  on  = hosts.server
  run = "true"
}
module "a" {
  source = "./mods/a"
  on     = hosts.server
}
moved {
  from = step.old # ERROR: Moved from an address still in the recipe
  to   = module.a.step.x
}
