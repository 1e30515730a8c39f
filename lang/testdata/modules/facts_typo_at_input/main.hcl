# A mistake in an input's expression is in the caller's file: its detail
# does not say "In module.u" (that is for mistakes in the module's files).
recipe "t" {}
hosts "node" {}
module "u" {
  source  = "builtin/systemd-unit"
  on      = hosts.node
  name    = "x"
  content = "[Service]\nExecStart=/bin/echo ${host.facts.memory}\n" # ERROR: Unsupported attribute
}
