recipe "t" {}
hosts "server" {}
module "a" {
  source = "../../invalid" # ERROR: Module source outside the recipe
  on     = hosts.server
}
