# One package step (TestRealPeers/apt_locks): the test holds an apt lock
# on the host, as apt-daily or an administrator's apt-get would, while
# diffuser installs.

recipe "peers_apt" {
  description = "a package step run while another process holds apt's locks"
}

variable "package" {
  type        = string
  description = "the package to install"
}

variable "update_cache" {
  type        = bool
  default     = false
  description = "run apt-get update first"
}

hosts "node" {
  count = 1
}

step "pkg" {
  on = hosts.node
  package {
    names        = [var.package]
    update_cache = var.update_cache
  }
}
