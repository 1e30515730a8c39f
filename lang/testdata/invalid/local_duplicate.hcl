recipe "t" {}

locals {
  layout = "replica 2"
}

locals {
  layout = "disperse 3" # ERROR: Duplicate local value
}
