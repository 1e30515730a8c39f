# Where the steps of the recipe before its modules went: state of a
# cluster applied with it plans as no change (docs/recipes/ceph.md).
moved {
  from = step.mon_conf
  to   = module.mon_files.step.conf
}
moved {
  from = step.admin_keyring
  to   = module.mon_files.step.keyring
}
moved {
  from = step.mgr_keyring
  to   = module.mgr.step.keyring
}
moved {
  from = step.mgr_service
  to   = module.mgr.step.service
}
moved {
  from = step.mds_keyring
  to   = module.mds.step.keyring
}
moved {
  from = step.mds_service
  to   = module.mds.step.service
}
moved {
  from = step.osd_conf
  to   = module.osd_files.step.conf
}
moved {
  from = step.bootstrap_osd_keyring
  to   = module.osd_files.step.keyring
}
moved {
  from = step.osd_unit
  to   = module.osd_dropin.step.dropin
}
moved {
  from = step.client_conf
  to   = module.client_files.step.conf
}
moved {
  from = step.client_keyring
  to   = module.client_files.step.keyring
}
moved {
  from = step.fuse_unit
  to   = module.fuse_dropin.step.dropin
}
