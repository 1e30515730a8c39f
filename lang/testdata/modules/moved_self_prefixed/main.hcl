# A module's moved blocks written with the addresses the recipe sees
# (module.share.step.x) where they are relative to the module.
recipe "t" {}
hosts "server" {}
module "share" {
  source = "./mods/share"
  on     = hosts.server
}
