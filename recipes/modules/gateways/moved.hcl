# Where the gateway steps lived before this module held them: recipes
# called builtin/nfs-ganesha as module "nfs_gateway", builtin/samba-ctdb
# as module "smb_gateway" and builtin/gvfs-mount as modules
# "nfs_gateway_mount" and "smb_gateway_mount". A cluster applied then
# keeps its gateways: each from is in the caller (caller.…), and the move
# is made only where the caller does not declare that address itself. The
# SMB gateways' own copies of the Ceph files are dropped: the NFS ones'
# are the module's. The NFS gateway's apply, config and ready steps go
# straight to module.ganesha, its Ceph files to module.ceph_files (see
# below); its service step goes. Its netadmin_preflight step went with
# the step of that name here (a precondition of smb_packages now): both
# are run steps without a destroy command, left behind in state, which the
# next apply drops running nothing (docs/gateways.md).
moved {
  from = caller.module.nfs_gateway.step.packages
  to   = step.nfs_packages
}
moved {
  from = caller.module.nfs_gateway.step.ceph_conf
  to   = module.ceph_files.step.conf
}
moved {
  from = caller.module.nfs_gateway.step.ceph_keyring
  to   = module.ceph_files.step.keyring
}
moved {
  from = caller.module.nfs_gateway.step.config
  to   = module.ganesha.step.config
}
moved {
  from = caller.module.nfs_gateway.step.apply
  to   = module.ganesha.step.service
}
moved {
  from = caller.module.nfs_gateway.step.ready
  to   = module.ganesha.step.ready
}
moved {
  from = caller.module.smb_gateway.step.packages
  to   = step.smb_packages
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

# Where the NFS-Ganesha steps went when builtin/ganesha took them over
# (shared with the nfs recipe). nfs_apply, the run step that restarted
# the daemon on a new configuration, becomes the service step that does
# it now with restart_on: an update that starts the unit if it is not
# running, where a removal would run its recorded destroy and stop
# Ganesha. The old nfs_service step goes (a service step without a
# destroy command: nothing runs).
moved {
  from = step.nfs_config
  to   = module.ganesha.step.config
}
moved {
  from = step.nfs_apply
  to   = module.ganesha.step.service
}
moved {
  from = step.nfs_ready
  to   = module.ganesha.step.ready
}

# The Ceph files went to builtin/ceph-conf: the same two files.
moved {
  from = step.ceph_conf
  to   = module.ceph_files.step.conf
}
moved {
  from = step.ceph_keyring
  to   = module.ceph_files.step.keyring
}
