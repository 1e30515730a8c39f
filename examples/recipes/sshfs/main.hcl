recipe "sshfs" {
  description = "One server exporting an xfs volume over SFTP, mounted with sshfs on every client"
  ports       = ["22/tcp ssh and sftp"]
}

variable "clients" {
  type        = number
  default     = 2
  description = "Hosts that mount the export with sshfs."
  min         = 1
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

variable "export_path" {
  type        = string
  default     = "/srv/export"
  description = "Where the server mounts its data volume; clients mount this directory."
  format      = "absolute_path"
}

variable "mount_point" {
  type        = string
  default     = "/mnt/sshfs"
  description = "Where clients mount the export."
  pattern     = "/mnt/[a-z0-9_-]+"
}

hosts "server" {
  volume "data" { size_gb = var.data_gb }
}

hosts "client" {
  count = var.clients
}

step "server_packages" {
  on      = hosts.server
  package = ["xfsprogs", "openssh-sftp-server"]
}

module "export" {
  source = "builtin/xfs-volume"
  on     = hosts.server
  after  = [step.server_packages]
  device = host.volume.data.device
  target = var.export_path
}

# A key pair only the clients use: its public half is authorized on the
# server, its private half goes to every client through a sensitive capture.
step "clients_key" {
  on        = hosts.server[0]
  sensitive = true
  run       = <<-EOT
    set -e
    install -d -m 0700 /root/.ssh
    [ -e /root/.ssh/sshfs_clients ] || ssh-keygen -q -t ed25519 -N '' -C sshfs-clients -f /root/.ssh/sshfs_clients
    grep -qxF "$(cat /root/.ssh/sshfs_clients.pub)" /root/.ssh/authorized_keys ||
      cat /root/.ssh/sshfs_clients.pub >> /root/.ssh/authorized_keys
  EOT
  unless    = "[ -e /root/.ssh/sshfs_clients ] && grep -qxF \"$(cat /root/.ssh/sshfs_clients.pub)\" /root/.ssh/authorized_keys"
  destroy   = "[ -e /root/.ssh/sshfs_clients.pub ] && grep -vxF \"$(cat /root/.ssh/sshfs_clients.pub)\" /root/.ssh/authorized_keys > /root/.ssh/ak.new; mv -f /root/.ssh/ak.new /root/.ssh/authorized_keys; rm -f /root/.ssh/sshfs_clients /root/.ssh/sshfs_clients.pub"
  capture {
    # Only a well-formed OpenSSH private key, else the step fails here.
    private_key = "sed -n '/^-----BEGIN OPENSSH PRIVATE KEY-----$/,/^-----END OPENSSH PRIVATE KEY-----$/p' /root/.ssh/sshfs_clients | grep -q . && sed -n '/^-----BEGIN OPENSSH PRIVATE KEY-----$/,/^-----END OPENSSH PRIVATE KEY-----$/p' /root/.ssh/sshfs_clients"
  }
}

module "clients" {
  source      = "./modules/sshfs-client"
  on          = hosts.client
  after       = [module.export, step.clients_key]
  server      = reach_ip(host, hosts.server[0])
  remote_path = module.export.target
  mount_point = var.mount_point
  key         = step.clients_key.outputs.private_key
}

verify "roundtrip" {
  on   = hosts.client
  path = module.clients.mount_point
}

output "mount" {
  value       = "root@${hosts.server[0].private_ip}:${var.export_path} on ${module.clients.mount_point}"
  description = "What clients mount, and where"
}

# The step was called client_key when this recipe was first applied: state
# entries under the old name are renamed, nothing runs again.
moved {
  from = step.client_key
  to   = step.clients_key
}
