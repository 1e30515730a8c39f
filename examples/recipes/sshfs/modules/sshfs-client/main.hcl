module_info {
  description = "a directory of another host mounted with sshfs (SFTP over SSH), with its own key, kept in /etc/fstab"
}

variable "server" {
  type        = string
  description = "the address of the SSH server, e.g. reach_ip(host, hosts.server[0]) at the call"
  format      = "host"
}

variable "remote_path" {
  type        = string
  description = "the directory on the server to mount"
  format      = "absolute_path"
}

variable "mount_point" {
  type        = string
  description = "where to mount it"
  format      = "absolute_path"
}

variable "key" {
  type        = string
  sensitive   = true
  description = "an OpenSSH private key the server authorizes for root"
}

locals {
  key_path = "/root/.ssh/sshfs_${replace(trimprefix(var.mount_point, "/"), "/", "_")}"
}

step "packages" {
  package = ["sshfs"]
}

step "identity" {
  file {
    path    = local.key_path
    content = "${var.key}\n"
    mode    = "0600"
  }
}

step "mount" {
  after = [step.packages, step.identity]
  mount {
    source  = "root@${var.server}:${var.remote_path}"
    target  = var.mount_point
    fstype  = "fuse.sshfs"
    options = "IdentityFile=${local.key_path},StrictHostKeyChecking=accept-new,reconnect,allow_other,_netdev"
    fstab   = true
  }
}

output "mount_point" {
  value       = var.mount_point
  description = "where the export is mounted"
}

# Renamed from key after a first apply (addresses relative to the module).
moved {
  from = step.key
  to   = step.identity
}
