recipe "t" {}

locals {
  total = 1 + "two" # ERROR: Invalid operand
}
