# STAGE: engine
recipe "t" {}

hosts "server" { count = 2 }

verify "roundtrip" {
  on   = hosts.server
  path = "mnt/gluster" # ERROR: Invalid verify path
}
