# Two hosts installing the same packages through a package cache
# (TestRealHostPackageCache): the cache fetches each from the mirror once.

recipe "packagecache" {
  description = "the same packages on every host, for the package cache test"
}

variable "packages" {
  type        = list(string)
  default     = ["jq"]
  description = "packages every host installs"
}

hosts "node" {
  count = 2
}

step "packages" {
  on      = hosts.node
  package = var.packages
}
