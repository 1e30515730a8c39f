# STAGE: engine
recipe "t" {}

hosts "server" { count = 2 }

step "brick" {
  on = hosts.server
  format {
    device = "xvdf" # ERROR: Invalid format device
    fstype = "xfs"
  }
}
