recipe "plandiff" {
  description = "a mount that moves is replaced; a mount step rewritten as a run step too"
}

hosts "client" {}

# The mount moves: replaced (unmounted at /mnt/data first).
step "data" {
  on = hosts.client
  mount {
    source  = "10.0.0.2:/gv0"
    target  = "/mnt/gluster"
    fstype  = "glusterfs"
    options = "_netdev"
    fstab   = true
  }
}

# Another kind: replaced (the tmpfs is unmounted first).
step "scratch" {
  on      = hosts.client
  run     = "mkdir -p /mnt/scratch"
  creates = "/mnt/scratch"
}

# New options at the same target: updated in place.
step "cache" {
  on = hosts.client
  mount {
    source  = "tmpfs"
    target  = "/var/cache/app"
    fstype  = "tmpfs"
    options = "size=64m"
  }
}
