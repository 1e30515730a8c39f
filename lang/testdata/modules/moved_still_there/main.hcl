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
moved { # ERROR: Moved from an address still in the recipe
  from = step.old
  to   = module.a.step.x
}
