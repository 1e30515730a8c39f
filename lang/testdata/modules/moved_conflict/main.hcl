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
moved { # ERROR: Conflicting moved blocks
  from = step.two
  to   = module.a.step.x
}
moved { # ERROR: Moved between kinds
  from = module.b
  to   = module.a.step.x
}
moved { # ERROR: Moved to an unknown address
  from = step.three
  to   = module.a.step.nope
}
