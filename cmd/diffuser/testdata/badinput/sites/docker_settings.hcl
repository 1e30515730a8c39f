# PROVIDER: docker
provider "docker" {
  network_cidr = "10.0.0.1/24"                     # ERROR: Invalid docker setting
  extra_hosts  = ["deb.debian.org:10.0.0.1", "x"]  # ERROR: Invalid docker setting
  volume_dir   = "volumes"                         # ERROR: Invalid docker setting
}
