recipe "t" {}

locals {
  x = local.x + 1 # ERROR: Cycle in locals
}
