# Reading a module's step or input from the caller, as Terraform users
# reach into a module's resources: only outputs are readable.
recipe "t" {}
hosts "node" {}
module "data" {
  source = "builtin/xfs-volume"
  on     = hosts.node
  device = "/dev/vdb"
  target = "/srv/data"
}
step "a" {
  on  = hosts.node
  run = "echo ${module.data.step.mount.outputs.x}" # ERROR: Unknown module output
}
step "b" {
  on  = hosts.node
  run = "echo ${module.data.device}" # ERROR: Unknown module output
}
