recipe "t" {}

hosts "client" { count = 2 }

step "client_packages" {
  on      = hosts.client
  package = [host.facts.os.distro == "debian" ? "glusterfs-client" : "glusterfs-fuse"] # ERROR: Unsupported attribute
}
