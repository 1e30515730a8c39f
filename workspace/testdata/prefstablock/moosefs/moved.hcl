# Where the steps of the recipe before its modules went: clusters applied
# with it keep their chunks, configuration and daemons; the steps are
# renamed in state, nothing runs again (docs/recipes/moosefs.md).
moved {
  from = step.chunks
  to   = module.chunks.step.format
}
moved {
  from = step.chunks_mount
  to   = module.chunks.step.mount
}
moved {
  from = step.master_config
  to   = module.master.step.config
}
moved {
  from = step.exports
  to   = module.master.step.also
}
moved {
  from = step.master
  to   = module.master.step.service
}
moved {
  from = step.metalogger_config
  to   = module.metalogger.step.config
}
moved {
  from = step.metalogger
  to   = module.metalogger.step.service
}
moved {
  from = step.chunkserver_config
  to   = module.chunkserver.step.config
}
moved {
  from = step.hdd_config
  to   = module.chunkserver.step.also
}
moved {
  from = step.chunkserver
  to   = module.chunkserver.step.service
}
