# STAGE: engine
recipe "t" {}
hosts "server" {}
# Two calls of a built-in module, each after the other: every step in the
# loop is in builtin/systemd-unit, which the user cannot edit, so the
# error points at the after entry that closes the loop.
module "a" {
  source  = "builtin/systemd-unit"
  on      = hosts.server
  after   = [module.b] # ERROR: Cycle between steps
  name    = "a"
  content = "[Service]\nExecStart=/bin/true\n"
}
module "b" {
  source  = "builtin/systemd-unit"
  on      = hosts.server
  after   = [module.a]
  name    = "b"
  content = "[Service]\nExecStart=/bin/true\n"
}
