# builtin/ganesha runs on its hosts input: the call's on in its place is
# one mistake, reported once at the call (not once per step of the
# module, in the built-in's file).
recipe "t" {}
hosts "server" {}
module "ganesha" { # ERROR: Missing module input
  source = "builtin/ganesha"
  on     = hosts.server
  config = "NFS_CORE_PARAM { }\n"
  export = {
    path    = "/srv"
    pseudo  = "/srv"
    fsal    = "FSAL { Name = VFS; }\n"
    clients = []
  }
}
