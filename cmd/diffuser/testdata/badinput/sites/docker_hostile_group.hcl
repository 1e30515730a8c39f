# PROVIDER: docker
# The same values in a host group's block, and an image that is no reference.
provider "docker" {
  hosts "server" {
    image = "node:$(id)"          # ERROR: Invalid docker setting
    suite = "bookworm;reboot"     # ERROR: Invalid docker setting
  }
}
