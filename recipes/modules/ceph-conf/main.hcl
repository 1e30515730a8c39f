module_info {
  description = "what a host needs to reach a Ceph cluster: /etc/ceph/ceph.conf and one keyring, readable by root only"
}

variable "conf" {
  type        = string
  description = "the content of /etc/ceph/ceph.conf (fsid, mon_host)"
}

variable "keyring_path" {
  type        = string
  description = "where the keyring goes, e.g. /etc/ceph/ceph.client.admin.keyring"
  pattern     = "(/[A-Za-z0-9._@:+-]+)+"
}

variable "keyring" {
  type        = string
  description = "the keyring's content (a key: pass it from a sensitive step's output)"
}

step "conf" {
  file {
    path    = "/etc/ceph/ceph.conf"
    content = var.conf
  }
}

step "keyring" {
  file {
    path    = var.keyring_path
    content = var.keyring
    mode    = "0600"
  }
}
