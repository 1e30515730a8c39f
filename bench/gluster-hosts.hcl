recipe "gluster-hosts" {
  description = "The hosts of a GlusterFS deploy (servers with a brick volume, clients) and nothing on them: make bench-peers runs its Ansible playbook (bench/peers/glusterfs.yml) there"
}

variable "servers" {
  type    = number
  default = 2
}

variable "clients" {
  type    = number
  default = 1
}

variable "brick_size_gb" {
  type    = number
  default = 2
}

hosts "server" {
  count = var.servers
  volume "brick" { size_gb = var.brick_size_gb }
}

hosts "client" {
  count = var.clients
}
