# One host given to an input that is a list of hosts: one error at the
# input, not "on not known before apply" once per step inside the
# built-in.
recipe "t" {}
hosts "server" {}
module "ganesha" {
  source = "builtin/ganesha"
  hosts  = hosts.server[0] # ERROR: Invalid value for module input
  config = "NFS_CORE_PARAM { }\n"
  export = {
    path    = "/srv"
    pseudo  = "/srv"
    fsal    = "FSAL { Name = VFS; }\n"
    clients = []
  }
}
