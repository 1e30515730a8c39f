module_info {
  description = "what a Ceph host needs to reach the cluster (recipe ceph): /etc/ceph/ceph.conf and one keyring, readable by root only"
}

variable "conf" {
  type        = string
  description = "the content of /etc/ceph/ceph.conf"
}

variable "keyring_path" {
  type        = string
  description = "where the keyring goes, e.g. /etc/ceph/ceph.client.admin.keyring"
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
