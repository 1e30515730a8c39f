# One host through a local for a list input: the input's own error, once,
# at the call (not "on not known before apply" per step of the module).
# STAGE: engine
recipe "t" {}
hosts "server" {}
locals {
  leader = hosts.server[0]
}
module "ganesha" {
  source = "builtin/ganesha"
  hosts  = local.leader # ERROR: Invalid value for module input
  config = "NFS_CORE_PARAM { }\n"
  export = {
    path    = "/srv"
    pseudo  = "/srv"
    fsal    = "FSAL { Name = VFS; }\n"
    clients = []
  }
}
