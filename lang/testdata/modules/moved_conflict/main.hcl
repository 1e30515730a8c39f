recipe "t" {}
hosts "server" {}
module "a" {
  source = "./mods/a"
  on     = hosts.server
}
moved {
  from = step.one
  to   = module.a.step.x
}
moved {
  from = step.two
  to   = module.a.step.x # ERROR: Conflicting moved blocks
}
moved {
  from = module.b
  to   = module.a.step.x # ERROR: Moved between kinds
}
moved {
  from = step.three
  to   = module.a.step.nope # ERROR: Moved to an unknown address
}
moved {
  from = step.four
  to   = step.x # ERROR: Moved to an unknown address
}
