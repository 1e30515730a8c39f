recipe "t" {}

locals {
  name = uppercase("gv0") # ERROR: Call to unknown function
}
