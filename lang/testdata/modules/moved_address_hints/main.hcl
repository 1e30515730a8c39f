# Moved addresses written as a Terraform user would: quoted (as state mv
# takes them), with an instance key, and without "step." inside a module.
recipe "t" {}
hosts "server" {
  volume "data" { size_gb = 1 }
}
module "data" {
  source = "builtin/xfs-volume"
  on     = hosts.server
  device = host.volume.data.device
  target = "/srv/data"
}
moved {
  from = "step.brick" # ERROR: Invalid moved address
  to   = module.data.step.format
}
moved {
  from = step.old_mount["server[0]"] # ERROR: Invalid moved address
  to   = module.data.step.mount
}
moved {
  from = module.old
  to   = module.data.format # ERROR: Invalid moved address
}
