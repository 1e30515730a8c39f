step "format" { run = "true" }
step "mount" { run = "true" }
module "inner" { source = "../b" }
moved {
  from = caller.step.brick
  to   = step.formt # ERROR: Moved to an unknown address
}
moved {
  from = step.old
  to   = step.mont # ERROR: Moved to an unknown address
}
moved {
  from = step.mount # ERROR: Moved from an address still in the module
  to   = step.format
}
moved {
  from = caller.module.a.step.y # ERROR: Moved from inside the module
  to   = step.format
}
moved {
  from = caller.step.z
  to   = module.inner # ERROR: Moved between kinds
}
