recipe "t" {}
hosts "server" {}
# An input read from `host` is checked as a step's host is: its attributes
# and facts, and its volumes against the groups of the module steps that
# read it.
module "a" {
  source = "./mods/a"
  on     = hosts.server
  family = host.facts.os.famly # ERROR: Unsupported attribute
  name   = host.nme # ERROR: Unsupported attribute
  device = host.volume.data.device # ERROR: Unknown volume
}
