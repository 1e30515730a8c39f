# Terraform's remote sources: diffuser fetches no modules.
recipe "t" {}
hosts "node" {}
module "git" {
  source = "git::https://example.com/mods.git//xfs?ref=v1" # ERROR: Invalid module source
  on     = hosts.node
}
module "registry" {
  source = "example/xfs/diffuser" # ERROR: Invalid module source
  on     = hosts.node
}
