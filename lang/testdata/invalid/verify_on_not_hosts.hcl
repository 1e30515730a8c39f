recipe "t" {}

hosts "client" {}

verify "roundtrip" {
  on   = "client" # ERROR: on names no hosts
  path = "/mnt/gluster"
}
