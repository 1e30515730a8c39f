# Where the gateway steps lived before this module held them: recipes
# called builtin/nfs-ganesha as module "nfs_gateway", builtin/samba-ctdb
# as module "smb_gateway" and builtin/gvfs-mount as modules
# "nfs_gateway_mount" and "smb_gateway_mount". A cluster applied then
# keeps its gateways: each from is in the caller (caller.…), and the move
# is made only where the caller does not declare that address itself. The
# SMB gateways' own copies of the Ceph files are dropped: the NFS ones'
# are the module's.
moved {
  from = caller.module.nfs_gateway.step.packages
  to   = step.nfs_packages
}
moved {
  from = caller.module.nfs_gateway.step.ceph_conf
  to   = step.ceph_conf
}
moved {
  from = caller.module.nfs_gateway.step.ceph_keyring
  to   = step.ceph_keyring
}
moved {
  from = caller.module.nfs_gateway.step.config
  to   = step.nfs_config
}
moved {
  from = caller.module.nfs_gateway.step.apply
  to   = step.nfs_apply
}
moved {
  from = caller.module.nfs_gateway.step.service
  to   = step.nfs_service
}
moved {
  from = caller.module.nfs_gateway.step.ready
  to   = step.nfs_ready
}
moved {
  from = caller.module.smb_gateway.step.packages
  to   = step.smb_packages
}
moved {
  from = caller.module.smb_gateway.step.netadmin_preflight
  to   = step.netadmin_preflight
}
moved {
  from = caller.module.smb_gateway.step.ctdb_nodes
  to   = step.ctdb_nodes
}
moved {
  from = caller.module.smb_gateway.step.ctdb_public
  to   = step.ctdb_public
}
moved {
  from = caller.module.smb_gateway.step.ctdb_conf
  to   = step.ctdb_conf
}
moved {
  from = caller.module.smb_gateway.step.smb_conf
  to   = step.smb_conf
}
moved {
  from = caller.module.smb_gateway.step.ctdb
  to   = step.ctdb
}
moved {
  from = caller.module.smb_gateway.step.ctdb_healthy
  to   = step.ctdb_healthy
}
moved {
  from = caller.module.smb_gateway.step.smbd
  to   = step.smbd
}
moved {
  from = caller.module.smb_gateway.step.ready
  to   = step.smb_ready
}
moved {
  from = caller.module.nfs_gateway_mount
  to   = module.nfs_mount
}
moved {
  from = caller.module.smb_gateway_mount
  to   = module.smb_mount
}
