recipe "t" {}

hosts "server" {}

hosts "client" {}

step "mount" {
  on = hosts.client
  mount {
    source = "${hosts.srv[0].private_ip}:/gv0" # ERROR: Unknown host group
    target = "/mnt"
    fstype = "glusterfs"
  }
}
