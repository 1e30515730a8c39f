# PROVIDER: docker
provider "docker" {
  hosts "server" {
    memory = "lots" # ERROR: Invalid docker setting
  }
}
