# Site file for machines you already have: hosts are listed by address per
# host group; index i of the list is GROUP[i].
default_provider = "static"

provider "static" {
  user     = "root"
  key_file = "~/.ssh/id_ed25519"
  # jump   = "ops@bastion.example.org:22"   # reach the hosts through a bastion
  # sudo   = true                           # for a non-root user
  # ~/.ssh/config is honoured (aliases, HostName, User, Port, IdentityFile,
  # ProxyJump); values set here win over it. ssh_config = "" ignores it.

  hosts "server" {
    addresses   = ["10.0.0.11", "10.0.0.12"]
    volumes     = { brick = "/dev/sdb" }
  }
  hosts "client" {
    addresses = ["10.0.0.21"]
  }
}
