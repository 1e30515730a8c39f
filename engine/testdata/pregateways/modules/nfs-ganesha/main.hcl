module_info {
  description = "NFS-Ganesha gateways exporting a GlusterFS volume (FSAL_GLUSTER, libgfapi) or a CephFS filesystem (FSAL_CEPH, libcephfs) over NFSv3 and NFSv4: every gateway serves the same export"
}

variable "gateways" {
  type        = any
  description = "the gateway hosts, e.g. hosts.gateway: every one serves the export"
}

variable "backend" {
  type        = string
  description = "\"gluster\" (FSAL_GLUSTER, package nfs-ganesha-gluster) or \"ceph\" (FSAL_CEPH, package nfs-ganesha-ceph)"
  validation {
    condition     = contains(["gluster", "ceph"], var.backend)
    error_message = "backend must be \"gluster\" or \"ceph\"."
  }
}

variable "volume" {
  type        = string
  description = "the GlusterFS volume or the CephFS filesystem to export"
  validation {
    condition     = can(regex("^[a-zA-Z][a-zA-Z0-9_-]*$", var.volume))
    error_message = "volume must be letters, digits, - and _."
  }
}

variable "servers" {
  type        = list(string)
  default     = []
  description = "gluster: the addresses of the volume's servers; Ganesha fetches the volume layout from the first (the libgfapi client then talks to every brick)"
  validation {
    condition     = length([for s in var.servers : s if !can(regex("^[a-zA-Z0-9.:-]+$", s))]) == 0
    error_message = "servers are addresses or host names."
  }
}

variable "ceph_conf" {
  type        = string
  default     = ""
  description = "ceph: the content of /etc/ceph/ceph.conf (fsid and monitors)"
}

variable "ceph_user" {
  type        = string
  default     = "admin"
  description = "ceph: the cephx user (without \"client.\") Ganesha connects as"
  validation {
    condition     = can(regex("^[a-zA-Z0-9_.-]+$", var.ceph_user))
    error_message = "ceph_user is a cephx id such as \"admin\" or \"ganesha\"."
  }
}

variable "ceph_keyring" {
  type        = string
  default     = ""
  sensitive   = true
  description = "ceph: the keyring of ceph_user, written to /etc/ceph/ceph.client.USER.keyring"
}

variable "pseudo" {
  type        = string
  default     = "/share"
  description = "the export's path as clients mount it (NFSv4 pseudo path; NFSv3 mounts the same path)"
  validation {
    condition     = can(regex("^(/[a-zA-Z0-9._-]+)+$", var.pseudo))
    error_message = "pseudo must be an absolute path of letters, digits, '.', '_' and '-'."
  }
}

variable "clients" {
  type        = list(string)
  description = "who may mount: addresses, CIDR ranges or \"*\"; empty exports nothing"
  validation {
    condition     = length([for c in var.clients : c if !can(regex("^[a-zA-Z0-9.:/*_-]+$", c))]) == 0
    error_message = "clients are addresses, host names, CIDR ranges or \"*\"."
  }
}

variable "grace_seconds" {
  type        = number
  default     = 20
  description = "NFSv4 grace period after a (re)start, during which clients reclaim state and new opens wait; Ganesha's own default is 90. The lease is half of it."
  validation {
    condition     = var.grace_seconds >= 10 && var.grace_seconds <= 600
    error_message = "grace_seconds must be between 10 and 600."
  }
}

locals {
  ceph_gateways = var.backend == "ceph" ? var.gateways : []
  # libgfapi finds the client translators (protocol/client, replicate, ...)
  # in glusterfs-common, which nfs-ganesha-gluster does not pull in:
  # without them every export fails with "Unable to initialize volume".
  packages = var.backend == "gluster" ? ["nfs-ganesha", "nfs-ganesha-gluster", "glusterfs-common"] : ["nfs-ganesha", "nfs-ganesha-ceph", "ceph-common"]

  fsal_gluster = <<-EOT
      FSAL {
        Name = GLUSTER;
        Hostname = "${length(var.servers) > 0 ? var.servers[0] : "localhost"}";
        Volume = "${var.volume}";
      }
  EOT
  fsal_ceph    = <<-EOT
      FSAL {
        Name = CEPH;
        Filesystem = "${var.volume}";
        User_Id = "${var.ceph_user}";
      }
  EOT

  export = length(var.clients) == 0 ? "# No clients: nothing is exported.\n" : <<-EOT
    EXPORT {
      Export_Id = 1;
      Path = "/";
      Pseudo = "${var.pseudo}";
      Protocols = 3, 4;
      Transports = TCP;
      SecType = sys;
      Access_Type = None;
      # The clients' root is root on the share: diffuser verify writes as root,
      # and the cluster a recipe builds is one trust domain.
      Squash = No_Root_Squash;
    ${var.backend == "gluster" ? local.fsal_gluster : local.fsal_ceph}
      CLIENT {
        Clients = ${join(", ", var.clients)};
        Access_Type = RW;
      }
    }
  EOT

  conf = <<-EOT
    # Written by diffuser (module nfs-ganesha); overwritten on every apply.
    NFS_CORE_PARAM {
      Protocols = 3, 4;
      # NFSv3 clients mount the pseudo path too.
      Mount_Path_Pseudo = true;
      MNT_Port = 20048;
      NLM_Port = 32803;
    }
    NFSV4 {
      Grace_Period = ${var.grace_seconds};
      Lease_Lifetime = ${floor(var.grace_seconds / 2)};
    }
    ${local.export}
  EOT
}

step "packages" {
  on      = var.gateways
  package = local.packages
}

# ceph only: the cluster's configuration and the user's key (a step whose
# `on` is empty has no instances).
step "ceph_conf" {
  on    = local.ceph_gateways
  after = [step.packages]
  file {
    path    = "/etc/ceph/ceph.conf"
    content = var.ceph_conf
  }
}

step "ceph_keyring" {
  on    = local.ceph_gateways
  after = [step.packages]
  file {
    path    = "/etc/ceph/ceph.client.${var.ceph_user}.keyring"
    content = var.ceph_keyring
    mode    = "0600"
  }
}

step "config" {
  on    = var.gateways
  after = [step.packages]
  file {
    path    = "/etc/ganesha/ganesha.conf"
    content = local.conf
  }
}

step "apply" {
  on    = var.gateways
  after = [step.config, step.ceph_conf, step.ceph_keyring]
  # The package starts the daemon with its example configuration: restart
  # it whenever the configuration changes (its digest is in the command).
  run     = <<-EOT
    set -e
    # conf ${sha256(local.conf)}
    systemctl restart nfs-ganesha
  EOT
  destroy = "systemctl stop nfs-ganesha || true"
}

step "service" {
  on    = var.gateways
  after = [step.apply]
  service {
    name    = "nfs-ganesha"
    state   = "started"
    enabled = true
  }
}

step "ready" {
  on    = var.gateways
  after = [step.service]
  wait {
    port = 2049
  }
}

output "pseudo" {
  value       = var.pseudo
  description = "the path clients mount"
}

output "service" {
  value       = "nfs-ganesha"
  description = "the systemd service every gateway runs (stop it on one gateway to see the others keep serving)"
}
