recipe "plandiff" {
  description = "lists and numbers"
}

hosts "server" {
  volume "data" { size_gb = 1 }
}

step "packages" {
  on      = hosts.server
  package = ["glusterfs-server", "xfsprogs", "attr"]
}

step "mount" {
  on = hosts.server
  mount {
    source  = "/dev/sdb"
    target  = "/data"
    fstype  = "xfs"
    options = "noatime,inode64"
    fstab   = true
  }
}
