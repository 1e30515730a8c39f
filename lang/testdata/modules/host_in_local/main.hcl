recipe "t" {}
hosts "server" {
  volume "brick" { size_gb = 1 }
}
module "a" {
  source = "./mods/a"
  on     = hosts.server
  dev    = host.volume.brick.device
}
