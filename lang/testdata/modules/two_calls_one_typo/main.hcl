recipe "t" {}
hosts "alpha" {}
hosts "beta" {}
module "a" {
  source = "./mods/share"
  on     = hosts.alpha
}
module "b" {
  source = "./mods/share"
  on     = hosts.beta
}
