recipe "t" {}

hosts "server" {}

step "s" {
  on      = hosts.server
  run     = "true"
  destroy = ["umount", "/mnt"] # ERROR: Invalid destroy
}
