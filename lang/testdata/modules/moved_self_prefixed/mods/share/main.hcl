step "settings" { run = "true" }
step "daemon" { run = "true" }
moved {
  from = step.config
  to   = module.share.step.settings # ERROR: Moved to an unknown address
}
# A warning, not an error: this from names module.share.module.share.step.old.
moved {
  from = module.share.step.old
  to   = step.daemon
}
