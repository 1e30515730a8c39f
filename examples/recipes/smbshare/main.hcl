recipe "smbshare" {
  description = "One Samba server sharing an xfs volume; clients read and write it with smbclient"
  ports       = ["22/tcp ssh", "445/tcp smb"]
}

variable "clients" {
  type        = number
  default     = 2
  description = "Hosts that use the share with smbclient."
  min         = 0
  max         = 16
  integer     = true
}

variable "data_gb" {
  type        = number
  default     = 1
  description = "Size of the server's data volume."
  min         = 1
  max         = 64
  integer     = true
}

variable "share" {
  type        = string
  default     = "data"
  description = "The share's name."
  pattern     = "[a-z][a-z0-9_]{0,11}"
}

variable "share_path" {
  type        = string
  default     = "/srv/share"
  description = "Where the server mounts the data volume."
  format      = "absolute_path"
}

variable "user" {
  type        = string
  default     = "smbuser"
  description = "The Samba user clients log in as."
  format      = "identifier"
}

variable "password" {
  type        = string
  default     = "change-me-please"
  sensitive   = true
  description = "The Samba user's password."
  pattern     = "[A-Za-z0-9._-]{8,64}"
}

variable "log_level" {
  type        = number
  default     = 1
  description = "smbd's log level."
  one_of      = [0, 1, 2, 3]
}

variable "hosts_allow" {
  type        = string
  default     = ""
  description = "A CIDR allowed to connect (\"\": every address)."
  format      = "cidr"
  allow_empty = true
}

hosts "server" {
  volume "data" { size_gb = var.data_gb }
}

hosts "client" {
  count = var.clients
}

step "server_packages" {
  on      = hosts.server
  package = ["samba", "xfsprogs"]
}

module "data" {
  source = "builtin/xfs-volume"
  on     = hosts.server
  after  = [step.server_packages]
  device = host.volume.data.device
  target = var.share_path
  label  = "smbdata"
  # smbd keeps files open on the share: stop it before unmounting.
  before_unmount = "systemctl stop smbd || true"
}

step "share_dir" {
  on     = hosts.server
  after  = [module.data]
  run    = "chmod 0777 ${shellquote(var.share_path)}"
  unless = "[ \"$(stat -c %a ${shellquote(var.share_path)})\" = 777 ]"
}

step "smb_conf" {
  on    = hosts.server
  after = [step.server_packages]
  file {
    path = "/etc/samba/smb.conf"
    content = templatefile("smb.conf.tpl", {
      share       = var.share
      path        = var.share_path
      user        = var.user
      log_level   = var.log_level
      hosts_allow = var.hosts_allow
      cores       = host.facts.cores
    })
  }
}

step "smb_user" {
  on        = hosts.server
  after     = [step.server_packages]
  sensitive = true
  run       = <<-EOT
    set -e
    id ${var.user} >/dev/null 2>&1 || useradd -M -s /usr/sbin/nologin ${var.user}
    printf '%s\n%s\n' ${shellquote(var.password)} ${shellquote(var.password)} | smbpasswd -s -a ${var.user}
  EOT
  destroy   = "smbpasswd -x ${var.user} || true; userdel ${var.user} || true"
}

step "smbd" {
  on         = hosts.server
  after      = [step.share_dir, step.smb_user]
  restart_on = [step.smb_conf]
  service {
    name    = "smbd"
    state   = "started"
    enabled = true
  }
}

step "smbd_ready" {
  on    = hosts.server
  after = [step.smbd]
  wait { port = 445 }
}

step "client_packages" {
  on = hosts.client
  # Debian calls the client smbclient, Red Hat samba-client.
  package = host.facts.os.family == "rhel" ? ["samba-client"] : ["smbclient"]
}

step "client_check" {
  on        = hosts.client
  after     = [step.client_packages, step.smbd_ready]
  sensitive = true
  retries   = 2
  # Put a file named after this client and read it back through the server.
  run = <<-EOT
    set -e
    cd /tmp
    hostname > diffuser-smb-${host.hostname}
    smbclient //${hosts.server[0].private_ip}/${var.share} -U ${var.user}%${shellquote(var.password)} \
      -c 'put diffuser-smb-${host.hostname}; get diffuser-smb-${host.hostname} diffuser-smb-back'
    cmp diffuser-smb-${host.hostname} diffuser-smb-back
  EOT
  capture {
    listing = "smbclient //${hosts.server[0].private_ip}/${var.share} -U ${var.user}%${shellquote(var.password)} -c ls | grep -c diffuser-smb- || true"
  }
}

verify "share" {
  on   = hosts.server
  path = var.share_path
}

output "share" {
  value       = "//${hosts.server[0].private_ip}/${var.share}"
  description = "What clients connect to (smbclient //HOST/SHARE -U USER)"
}
