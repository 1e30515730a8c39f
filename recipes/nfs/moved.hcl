# State applied before the export volume moved into the module keeps it.
moved {
  from = step.export_fs
  to   = module.export.step.format
}
moved {
  from = step.export_mount
  to   = module.export.step.mount
}

# Before builtin/ganesha, one nfs_service step ran either server, and
# nfs_port waited for either: their state entries are NFS-Ganesha's now.
# On a server = "kernel" cluster applied then they have no instance left
# there and go, running nothing (the kernel server's service step had no
# destroy command, a wait has none), and kernel_service and kernel_port
# take over, finding the server started and the port open.
moved {
  from = step.nfs_service
  to   = module.ganesha.step.service
}
moved {
  from = step.nfs_port
  to   = module.ganesha.step.ready
}
moved {
  from = step.ganesha_config
  to   = module.ganesha.step.config
}
moved {
  from = step.ganesha_export
  to   = module.ganesha.step.exports
}

# Before the rewrite on restart_on, run steps restarted the daemons by
# hashing the files into their commands. Their state entries became the
# service steps that took over their job: an update that starts the unit
# if it is not running, instead of a removal whose recorded destroy
# command would stop NFS-Ganesha or the libnfs mount (gvfs_mount restarted
# the mount's unit, as builtin/gvfs-mount's mount step does now).
moved {
  from = step.kernel_nfsd
  to   = step.kernel_statd
}
moved {
  from = step.ganesha_apply
  to   = step.ganesha_lock
}
moved {
  from = step.gvfs_mount
  to   = module.libnfs.step.mount
}
moved {
  from = step.gvfs_ready
  to   = module.libnfs.step.ready
}
