recipe "t" {}

hosts "client" {}

verify "roundtrip" {
  on   = hosts.client
  path = "/mnt/a"
}

verify "roundtrip" { # ERROR: Duplicate verify
  on   = hosts.client
  path = "/mnt/b"
}
