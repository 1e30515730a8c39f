module_info {
  description = "an NFS-Ganesha server (its packages installed by the caller) with one export, NFSv3 and NFSv4, read-write for the listed clients only: /etc/ganesha/ganesha.conf, whose change restarts the daemon, the export in it or in a file of its own, whose change only reloads it, the nfs-ganesha service started and enabled, port 2049 answering"
}

variable "hosts" {
  type        = list(any)
  description = "the hosts that run NFS-Ganesha; [] deploys nothing"
}

variable "config" {
  type        = string
  description = "the beginning of /etc/ganesha/ganesha.conf: a header comment, NFS_CORE_PARAM and the other blocks; the export follows it (or the %include of its file)"
}

variable "export" {
  type        = object({ path = string, pseudo = string, fsal = string, clients = list(string) })
  description = "the export: path (in the FSAL's namespace), pseudo (the NFSv4 path), fsal (the FSAL { ... } block, ending in a newline), clients (addresses or CIDR ranges that may mount it, read-write, their root kept as root; [] exports nothing)"
  # They are written into Ganesha's configuration: nothing that could end
  # a string or a block there.
  validation {
    condition     = can(regex("^/[A-Za-z0-9._@:+/-]*$", var.export.path)) && can(regex("^/[A-Za-z0-9._@:+/-]*$", var.export.pseudo))
    error_message = "export.path and export.pseudo are absolute paths (letters, digits, . _ @ : + - /), such as \"/srv/nfs\"."
  }
  validation {
    condition     = length([for c in var.export.clients : c if !can(regex("^[a-zA-Z0-9.:/*_-]+$", c))]) == 0
    error_message = "export.clients are addresses, CIDR ranges or \"*\" (letters, digits, . : / * _ -), such as \"10.0.0.0/24\"."
  }
}

variable "export_file" {
  type        = string
  default     = null
  description = "null: the export is written at the end of ganesha.conf (a change of clients restarts NFS-Ganesha, with a new grace period); else the header of /etc/ganesha/diffuser-export.conf, which then holds the export and which ganesha.conf %includes, so that a change of clients is a reload (SIGHUP re-reads the exports)"
}

locals {
  export   = length(var.export.clients) == 0 ? "# No clients: nothing is exported.\n" : <<-EOT
    EXPORT {
      Export_Id = 1;
      Path = "${var.export.path}";
      Pseudo = "${var.export.pseudo}";
      Protocols = 3, 4;
      Transports = TCP;
      SecType = sys;
      Access_Type = None;
      # The clients' root is root on the share: diffuser verify writes as root,
      # and the cluster a recipe builds is one trust domain.
      Squash = No_Root_Squash;
    ${var.export.fsal}
      CLIENT {
        Clients = ${join(", ", var.export.clients)};
        Access_Type = RW;
      }
    }
  EOT
  separate = var.export_file != null
}

step "config" {
  on = var.hosts
  # Replaces the package's example configuration.
  file {
    path    = "/etc/ganesha/ganesha.conf"
    content = local.separate ? "${var.config}%include \"/etc/ganesha/diffuser-export.conf\"\n" : "${var.config}${local.export}\n"
  }
}

step "exports" {
  # No instances when the export is in ganesha.conf.
  on = local.separate ? var.hosts : []
  file {
    path    = "/etc/ganesha/diffuser-export.conf"
    content = local.separate ? "${var.export_file}${local.export}" : ""
  }
}

step "service" {
  on = var.hosts
  # The package starts the daemon with its example configuration before
  # these files are written: the first apply restarts it too. A new
  # export file is only a reload, which mounted clients do not notice and
  # which starts no new grace period.
  restart_on = [step.config]
  reload_on  = [step.exports]
  service {
    name    = "nfs-ganesha"
    state   = "started"
    enabled = true
  }
  # Stop serving before what it exports goes (a volume it holds open).
  destroy = "systemctl stop nfs-ganesha || true"
}

step "ready" {
  on    = var.hosts
  after = [step.service]
  wait {
    port = 2049
  }
}

output "service" {
  value       = "nfs-ganesha"
  description = "the systemd unit's name"
}
