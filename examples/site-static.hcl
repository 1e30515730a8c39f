# Site file for machines you already have: hosts are listed by address per
# host group; index i of the list is GROUP[i]. validate and plan refuse a
# group that lists fewer addresses than the recipe asks for hosts.
default_provider = "static"

provider "static" {
  user     = "root"
  key_file = "~/.ssh/id_ed25519"
  # jump   = "ops@bastion.example.org:22"   # reach the hosts through a bastion
  # sudo   = true                           # for a non-root user
  # ~/.ssh/config is honoured (aliases, HostName, User, Port, IdentityFile,
  # ProxyJump); values set here win over it. ssh_config = "" ignores it.

  hosts "server" {
    addresses = ["10.0.0.11", "10.0.0.12"]
    volumes   = { brick = "/dev/sdb", data = "/dev/sdc" } # data: examples/recipes/smbshare, sshfs
  }
  hosts "client" {
    addresses = ["10.0.0.21", "10.0.0.22"]
  }
  # examples/recipes/sharedfile; a group no recipe of this run has is ignored.
  hosts "node" {
    addresses = ["10.0.0.31", "10.0.0.32"]
  }
  # examples/recipes/seaweedfs (its client group is the one above).
  hosts "master" {
    addresses = ["10.0.0.41"]
  }
  hosts "volume" {
    addresses = ["10.0.0.51", "10.0.0.52", "10.0.0.53"]
    volumes   = { data = "/dev/sdb" }
  }
  hosts "filer" {
    addresses = ["10.0.0.61"]
  }
}
