# after naming one step inside a module, and one instance of a step;
# restart_on naming one step inside a module.
recipe "t" {}
hosts "node" {}
module "u" {
  source  = "builtin/systemd-unit"
  on      = hosts.node
  name    = "x"
  content = "[Service]\nExecStart=/bin/sleep infinity\n"
}
step "a" {
  on    = hosts.node
  after = [module.u.step.service] # ERROR: Invalid after entry
  run   = "true"
}
step "b" {
  on    = hosts.node
  after = [step.a["node[0]"]] # ERROR: Invalid after entry
  run   = "true"
}
step "c" {
  on         = hosts.node
  restart_on = [module.u.step.unit] # ERROR: Invalid restart_on entry
  service {
    name = "x"
  }
}
module "v" {
  source     = "builtin/systemd-unit"
  on         = hosts.node
  restart_on = [module.u.step.unit] # ERROR: Invalid restart_on entry
  name       = "y"
  content    = "[Service]\nExecStart=/bin/sleep infinity\n"
}
step "d" {
  on        = hosts.node
  reload_on = [module.u.step.unit] # ERROR: Invalid reload_on entry
  service {
    name = "x"
  }
}
