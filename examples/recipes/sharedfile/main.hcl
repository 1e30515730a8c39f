# A minimal recipe to copy when writing your own. It shows the moving
# parts without a filesystem in the way: a host group, a package, a guarded
# command, a file rendered per host, ordering with after, a verify block
# and an output. docs/writing-recipes.md explains each.
recipe "sharedfile" {
  description = "Example: a directory with a file on every host, written from a template"
}

variable "hosts" {
  type        = number
  default     = 2
  description = "How many hosts."
}

variable "motd" {
  type    = string
  default = "hello from diffuser"
}

hosts "node" {
  count = var.hosts
}

step "tools" {
  on      = hosts.node
  package = ["coreutils"]
}

step "dir" {
  on      = hosts.node
  run     = "mkdir -p /srv/shared"
  creates = "/srv/shared"
}

step "motd" {
  on    = hosts.node
  after = [step.dir]
  file {
    path    = "/srv/shared/motd"
    content = "${var.motd}\nI am ${host.name} (${host.private_ip}); my peers: ${join(", ", [for h in hosts.node : h.name if h.name != host.name])}\n"
    mode    = "0644"
  }
}

# The directory is local to each host, so verify on one host only (it
# writes, drops caches and reads back); on a shared filesystem, verify on
# every client instead.
verify "local" {
  on   = hosts.node[0]
  path = "/srv/shared"
}

output "first" {
  value = hosts.node[0].private_ip
}
