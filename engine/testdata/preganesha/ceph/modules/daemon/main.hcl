module_info {
  description = "a Ceph manager or MDS on a monitor host (recipe ceph): its key, made by the cluster for this host only, and its service"
}

variable "type" {
  type        = string
  description = "mgr or mds: the daemon's key is TYPE.<hostname>, its unit ceph-TYPE@<hostname>"
}

locals {
  # What each daemon may do, as Ceph's docs give it (mgr: "allow profile
  # mgr"; mds: the mds profiles). An unknown type fails here, at load.
  caps = {
    mgr = "mon 'allow profile mgr' osd 'allow *' mds 'allow *'"
    mds = "mon 'profile mds' mgr 'profile mds' mds 'allow *' osd 'allow *'"
  }[var.type]
}

step "keyring" {
  # The key never leaves the host: the cluster makes it (once) straight
  # into the daemon's directory.
  run     = <<-EOT
    set -e
    d=/var/lib/ceph/${var.type}/ceph-${host.hostname}
    install -d -o ceph -g ceph $d
    ceph auth get-or-create ${var.type}.${host.hostname} ${local.caps} -o $d/keyring.tmp
    chown ceph:ceph $d/keyring.tmp
    mv $d/keyring.tmp $d/keyring
  EOT
  creates = "/var/lib/ceph/${var.type}/ceph-${host.hostname}/keyring"
}

step "service" {
  after = [step.keyring]
  service {
    name    = "ceph-${var.type}@${host.hostname}"
    enabled = true
  }
}
