# GlusterFS servers on docker, clients on machines the site lists: the
# clients mount from the servers, which sit on a docker bridge.
default_provider = "docker"

provider "static" {
  user = "root"
  hosts "client" {
    addresses = ["192.0.2.10", "192.0.2.11"]
  }
}

hosts "client" {
  provider = static
}
