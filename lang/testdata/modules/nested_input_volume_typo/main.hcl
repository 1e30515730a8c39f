recipe "t" {}
hosts "server" {
  volume "brick" { size_gb = 1 }
}
module "outer" {
  source = "./mods/outer"
  on     = hosts.server
  dev    = host.volume.brik.device # ERROR: Unknown volume
}
