# PROVIDER: docker
# 1e400 is +Inf: the engine's nano-CPU count overflowed at launch; it is refused as a number
# beyond float64 wherever it is written.
provider "docker" {
  cpus = 1e400 # ERROR: Number out of range
}
