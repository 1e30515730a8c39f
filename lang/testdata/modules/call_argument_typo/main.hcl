recipe "t" {}
hosts "server" {}
step "packages" {
  on      = hosts.server
  package = ["xfsprogs"]
}
module "data" {
  source = "builtin/xfs-volume"
  on     = hosts.server
  aftr   = [step.packages] # ERROR: Unknown module input
  device = "/dev/xvdf"
  target = "/data"
}
