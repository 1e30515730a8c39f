recipe "t" {}
hosts "server" {}
module "a" {
  source = "./mods/a"
  on     = hosts.server
  lifecycle "x" { # ERROR: Block in a module call
    enabled = false
  }
}
