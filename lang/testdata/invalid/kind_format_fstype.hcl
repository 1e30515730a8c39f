# STAGE: engine
recipe "t" {}

hosts "server" { count = 2 }

step "brick" {
  on = hosts.server
  format {
    device = "/dev/xvdf"
    fstype = "XFS" # ERROR: Invalid format fstype
  }
}
