# A call's on that reads facts: one error, though both steps of the
# module run on it.
# STAGE: engine
recipe "t" {}
hosts "node" { count = 2 }
module "u" {
  source  = "builtin/systemd-unit"
  on      = [for h in hosts.node : h if h.facts.cores > 1] # ERROR: on not known before apply
  name    = "x"
  content = "[Service]\nExecStart=/bin/true\n"
}
