recipe "plandiff" {
  description = "a mount that moves is replaced; a mount step rewritten as a run step too"
}

hosts "client" {}

step "data" {
  on = hosts.client
  mount {
    source  = "10.0.0.2:/gv0"
    target  = "/mnt/data"
    fstype  = "glusterfs"
    options = "_netdev"
    fstab   = true
  }
}

step "scratch" {
  on = hosts.client
  mount {
    source = "tmpfs"
    target = "/mnt/scratch"
    fstype = "tmpfs"
  }
}

step "cache" {
  on = hosts.client
  mount {
    source = "tmpfs"
    target = "/var/cache/app"
    fstype = "tmpfs"
  }
}
