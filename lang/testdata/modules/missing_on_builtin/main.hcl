recipe "t" {}
hosts "server" {
  volume "brick" { size_gb = 1 }
}
module "brick" { # ERROR: Missing on
  source = "builtin/xfs-volume"
  device = "/dev/xvdf"
  target = "/data/brick"
}
