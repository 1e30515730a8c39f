recipe "t" {}
hosts "server" {}

# A validation whose condition is not true or false is an error at the
# condition, not a rule silently skipped.
module "m" {
  source = "./mods/m"
  on     = hosts.server
  name   = "data"
}
