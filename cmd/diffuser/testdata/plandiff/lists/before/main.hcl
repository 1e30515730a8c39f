recipe "plandiff" {
  description = "lists and numbers"
}

hosts "server" {
  volume "data" { size_gb = 1 }
}

step "packages" {
  on      = hosts.server
  package = ["glusterfs-server", "xfsprogs"]
}

step "mount" {
  on = hosts.server
  mount {
    source  = "/dev/sdb"
    target  = "/data"
    fstype  = "xfs"
    options = "noatime"
  }
}
