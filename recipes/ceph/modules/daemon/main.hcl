module_info {
  description = "a Ceph manager or MDS on a monitor host (recipe ceph): its key, made by the cluster for this host only, and its service"
}

variable "type" {
  type        = string
  description = "mgr or mds: the daemon's key is TYPE.<hostname>, its unit ceph-TYPE@<hostname>"
  validation {
    condition     = contains(["mgr", "mds"], var.type)
    error_message = "type must be mgr or mds."
  }
}

variable "caps" {
  type        = string
  description = "the key's capabilities as ceph auth get-or-create takes them, e.g. \"mon 'profile mds' osd 'allow *'\""
}

step "keyring" {
  # The key never leaves the host: the cluster makes it (once) straight
  # into the daemon's directory.
  run     = <<-EOT
    set -e
    d=/var/lib/ceph/${var.type}/ceph-${host.hostname}
    install -d -o ceph -g ceph $d
    ceph auth get-or-create ${var.type}.${host.hostname} ${var.caps} -o $d/keyring.tmp
    chown ceph:ceph $d/keyring.tmp
    mv $d/keyring.tmp $d/keyring
  EOT
  creates = "/var/lib/ceph/${var.type}/ceph-${host.hostname}/keyring"
}

step "service" {
  after = [step.keyring]
  service {
    name    = "ceph-${var.type}@${host.hostname}"
    state   = "started"
    enabled = true
  }
}
