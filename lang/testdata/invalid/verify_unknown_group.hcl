recipe "t" {}

hosts "client" {}

verify "roundtrip" {
  on   = hosts.clients # ERROR: Unknown host group
  path = "/mnt/gluster"
}
