recipe "t" {}

locals {
  a = "${local.b}-x" # ERROR: Cycle in locals
  b = "${local.a}-y"
}
