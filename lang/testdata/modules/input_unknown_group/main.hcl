recipe "t" {}
hosts "client" {}
module "mount" {
  source      = "builtin/gvfs-mount"
  clients     = hosts.clients # ERROR: Unknown host group
  name        = "nfs"
  protocol    = "nfs"
  server      = "10.0.0.1"
  share       = "/export"
  mount_point = "/mnt/nfs"
}
