# file() in a module reads the module's own directory: a caller's file
# goes in as an input.
recipe "t" {}
hosts "node" {}
module "a" {
  source = "./mods/a"
  on     = hosts.node
  given  = file("top.txt")
}
