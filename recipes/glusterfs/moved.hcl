# Clusters applied before the brick moved into the module keep their
# bricks: the steps are renamed in state, nothing runs again.
moved {
  from = step.brick
  to   = module.brick.step.format
}
moved {
  from = step.brick_mount
  to   = module.brick.step.mount
}
