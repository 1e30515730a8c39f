# Where the two file steps went: gateways applied before keep them.
moved {
  from = step.conf
  to   = module.files.step.conf
}
moved {
  from = step.bootstrap_keyring
  to   = module.files.step.keyring
}
