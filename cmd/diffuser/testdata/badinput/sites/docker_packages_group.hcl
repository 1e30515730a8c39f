# PROVIDER: docker
provider "docker" {
  packages = ["jq"]
  hosts "server" {
    packages = ["glusterfs-server", "a;rm -rf /"]   # ERROR: Invalid docker setting
  }
}
