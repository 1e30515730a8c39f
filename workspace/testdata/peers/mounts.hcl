# Four tmpfs mounts kept in /etc/fstab and a package installed after an
# apt-get update, all named after the workspace (TestRealPeers/workspaces):
# two workspaces apply this recipe to the same host at once, each with its
# own name, so their updates, installs and fstab edits meet.

recipe "peers_mounts" {
  description = "fstab lines and a package from two workspaces on one host"
}

variable "name" {
  type        = string
  description = "what the mount points are named after (one per workspace)"
}

variable "package" {
  type        = string
  description = "a package this workspace installs"
}

hosts "node" {
  count = 1
}

step "pkg" {
  on = hosts.node
  package {
    names        = [var.package]
    update_cache = true
  }
}

step "m0" {
  on = hosts.node
  mount {
    source = "tmpfs"
    target = "/srv/peers/${var.name}/m0"
    fstype = "tmpfs"
    fstab  = true
  }
}

step "m1" {
  on = hosts.node
  mount {
    source = "tmpfs"
    target = "/srv/peers/${var.name}/m1"
    fstype = "tmpfs"
    fstab  = true
  }
}

step "m2" {
  on = hosts.node
  mount {
    source = "tmpfs"
    target = "/srv/peers/${var.name}/m2"
    fstype = "tmpfs"
    fstab  = true
  }
}

step "m3" {
  on = hosts.node
  mount {
    source = "tmpfs"
    target = "/srv/peers/${var.name}/m3"
    fstype = "tmpfs"
    fstab  = true
  }
}
