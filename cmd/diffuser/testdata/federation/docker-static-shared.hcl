# GlusterFS servers on docker, clients on machines the site lists, all on
# the Docker network "lab" (a macvlan onto the lab's LAN, say): the
# servers join it, so the clients reach them there.
default_provider = "docker"

provider "docker" {
  networks = ["lab"]
}

provider "static" {
  user = "root"
  hosts "client" {
    addresses = ["192.0.2.10", "192.0.2.11"]
  }
}

hosts "client" {
  provider = static
}
