# PROVIDER: docker
# 1e400 is +Inf: the engine's nano-CPU count overflowed at launch.
provider "docker" {
  cpus = 1e400 # ERROR: Invalid docker setting
}
