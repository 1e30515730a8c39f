# STAGE: engine
recipe "t" {}

hosts "server" { count = 2 }

step "brick" {
  on = hosts.server
  format {
    device = "/dev/xvdf"
    fstype = "xfs"
    label  = "gluster-brick-0" # ERROR: Invalid format label
  }
}
