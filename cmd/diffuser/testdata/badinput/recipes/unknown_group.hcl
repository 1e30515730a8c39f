recipe "bad" {}

hosts "server" {}

hosts "client" {}

step "mount" {
  on = hosts.client
  mount {
    source = "${hosts.servers[0].private_ip}:/gv0" # ERROR: Unknown host group
    target = "/mnt/gluster"
    fstype = "glusterfs"
  }
}
