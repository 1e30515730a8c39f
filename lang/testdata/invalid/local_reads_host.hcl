recipe "t" {}

locals {
  device = host.volume.brick.device # ERROR: host not available here
}
