recipe "t" {}
hosts "client" {}
module "mount" {
  source      = "builtin/gvfs-mount"
  clients     = "client" # ERROR: Module input holds no hosts
  name        = "nfs"
  protocol    = "nfs"
  server      = "10.0.0.1"
  share       = "/export"
  mount_point = "/mnt/nfs"
}
