# Clusters applied before the rewrite on modules keep their storage, units
# and services: the steps are renamed in state, nothing runs again.
moved {
  from = step.server_build_deps
  to   = module.server_build.step.deps
}
moved {
  from = step.server_build
  to   = module.server_build.step.build
}
moved {
  from = step.client_build_deps
  to   = module.client_build.step.deps
}
moved {
  from = step.client_build
  to   = module.client_build.step.build
}
moved {
  from = step.storage_fs
  to   = module.storage.step.format
}
moved {
  from = step.storage_mount
  to   = module.storage.step.mount
}
moved {
  from = step.server_unit
  to   = module.server_daemon.step.unit
}
moved {
  from = step.server_service
  to   = module.server_daemon.step.service
}
moved {
  from = step.client_unit
  to   = module.client_daemon.step.unit
}
moved {
  from = step.client_service
  to   = module.client_daemon.step.service
}
moved {
  from = step.fuse_unit
  to   = module.fuse_daemon.step.unit
}
moved {
  from = step.fuse_service
  to   = module.fuse_daemon.step.service
}
