recipe "t" {}
hosts "server" {}
module "a" {
  source = "./mods/a"
  on     = hosts.server
  lifecycle {
    enabled = true
  }
  lifecycle { # ERROR: Duplicate lifecycle block
    enabled = false
  }
}
