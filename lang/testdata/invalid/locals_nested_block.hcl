recipe "t" {}

locals {
  layout = "replica 2"
  extra { # ERROR: Unexpected "extra" block
  }
}
