# The universe an example of the documentation is validated in (docs_hcl_test.go).
# An example that declares a block of the same type and name (a local of the same
# name) replaces the one here; the rest stays, so an example may read var.servers,
# hosts.server, step.glusterd or local.volume without declaring them.

recipe "docs" {}

variable "servers" {
  type    = number
  default = 2
}
variable "clients" {
  type    = number
  default = 1
}
variable "replica" {
  type    = number
  default = 1
}
variable "volume_name" {
  type    = string
  default = "gv0"
}
variable "public_addresses" {
  type    = list(string)
  default = []
}
variable "package_repository" {
  type    = any
  default = null
}
variable "nfs_gateways" {
  type    = number
  default = 0
}
variable "smb_gateways" {
  type    = number
  default = 0
}
variable "gateway_public_addresses" {
  type    = list(string)
  default = []
}

hosts "server" {
  count = var.servers
  volume "brick" { size_gb = 1 }
}
hosts "client" {
  count = var.clients
}
hosts "chunk" {}
hosts "gateway" {
  count = 0
}
hosts "gateway_client" {
  count = 0
}

locals { volume = "gv0" }
locals { config = "PORT=9422\n" }
locals { master_cfg = "WORKING_USER = mfs\n" }
locals { smb_gateways = hosts.gateway }
locals { server_ips = [for h in hosts.server : h.private_ip] }

step "server_packages" {
  on      = hosts.server
  package = ["glusterfs-server"]
}
step "glusterd" {
  on = hosts.server
  service { name = "glusterd" }
}
step "volume" {
  on  = hosts.server[0]
  run = "true"
}
step "a" {
  on  = hosts.server
  run = "true"
}
step "b" {
  on  = hosts.server
  run = "true"
}
step "c" {
  on  = hosts.server
  run = "true"
}
step "conf" {
  on = hosts.server
  file {
    path    = "/etc/docs.conf"
    content = "x"
  }
}
step "exports" {
  on = hosts.server
  file {
    path    = "/etc/docs.exports"
    content = "x"
  }
}
step "new" {
  on  = hosts.server
  run = "true"
}

module "rgw" {
  source    = "builtin/radosgw"
  gateways  = []
  admin     = []
  ceph_conf = ""
}
