recipe "t" {}
hosts "alpha" {}
# The call's on is read by every step of the module and of the nested
# call that inherits it: one mistake, one error, at the call.
module "share" {
  source = "./mods/share"
  on     = hosts.alfa # ERROR: Unknown host group
}
