recipe "t" {}

locals {
  a = local.c # ERROR: Cycle in locals
  b = local.a
  c = local.b
}
