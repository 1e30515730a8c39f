# Values of a module's verify block that only the engine checks (enabled
# not a bool, a relative path): each at its line in the module, naming
# the call.
# STAGE: engine
recipe "t" {}
hosts "client" { count = 2 }
module "a" {
  source  = "./mods/a"
  on      = hosts.client
  clients = hosts.client
}
