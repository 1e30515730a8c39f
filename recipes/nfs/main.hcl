recipe "nfs" {
  description = "One NFS server (kernel nfsd or NFS-Ganesha) exporting an xfs volume, mounted on every client"
  # NFSv4 needs 2049 only. NFSv3 (served too; the libnfs client mode uses it)
  # also needs the portmapper, mountd and, for locks, NLM and statd: their
  # ports are pinned below so that a firewall can list them.
  ports = ["22/tcp ssh", "2049/tcp nfs", "111/tcp+udp portmapper (NFSv3)", "20048/tcp+udp mountd (NFSv3)", "32803/tcp+udp nlockmgr (NFSv3 locks)", "662/tcp+udp statd (NFSv3 locks)"]
}

variable "server" {
  type        = string
  default     = "kernel"
  description = "NFS server: \"kernel\" (nfs-kernel-server, the Linux in-kernel nfsd: the usual choice on cloud VMs) or \"ganesha\" (NFS-Ganesha, a userspace server; it needs CAP_DAC_READ_SEARCH, which containers lack by default)."
  one_of      = ["kernel", "ganesha"]
}

variable "mount" {
  type        = string
  default     = "kernel"
  description = "How clients mount the export: \"kernel\" (the Linux NFS client: mount -t nfs, NFSv4, in /etc/fstab) or \"libnfs\" (no kernel NFS client needed: GVfs's NFS backend, which is libnfs speaking NFSv3, shown through FUSE by gvfsd-fuse and run by a systemd unit; the libnfs tools nfs-ls, nfs-cp and nfs-cat come with it)."
  one_of      = ["kernel", "libnfs"]
}

variable "clients" {
  type        = number
  default     = 2
  description = "Number of client hosts that mount the export. verify writes on the first and reads on the others."
  min         = 0
  integer     = true
}

variable "export_size_gb" {
  type        = number
  default     = 2
  description = "Size of the server's export volume, formatted xfs."
  min         = 1
  integer     = true
}

variable "export_path" {
  type        = string
  default     = "/srv/nfs"
  description = "Where the export volume is mounted on the server. Clients mount SERVER:export_path with either server (NFS-Ganesha's pseudo path is set to the same)."
  format      = "absolute_path"
}

variable "export_to" {
  type        = list(string)
  default     = []
  description = "Who may mount the export: addresses, CIDR ranges or \"*\". Empty (the default) means exactly the client hosts' private addresses."
  pattern     = "[a-zA-Z0-9.:/*_-]+"
}

variable "mount_point" {
  type        = string
  default     = "/mnt/nfs"
  description = "Where clients see the export. With mount = \"libnfs\" it is a symbolic link into the GVfs FUSE tree."
  format      = "absolute_path"
}

variable "mount_options" {
  type        = string
  default     = "vers=4,_netdev"
  description = "Kernel client mount options (mount = \"kernel\" only). vers=4 takes the highest NFSv4 minor version both sides speak; _netdev makes the fstab line wait for the network at boot."
  pattern     = "[a-zA-Z0-9_=.,:-]+"
}

locals {
  server_ip = hosts.server[0].private_ip
  export_to = length(var.export_to) > 0 ? var.export_to : [for h in hosts.client : h.private_ip]

  # Which steps run: a step whose `on` is empty has no instances.
  kernel_server  = var.server == "kernel" ? hosts.server : []
  ganesha_server = var.server == "ganesha" ? hosts.server : []
  kernel_clients = var.mount == "kernel" ? hosts.client : []
  libnfs_clients = var.mount == "libnfs" ? hosts.client : []

  # By host.facts.os.family: "rhel" (RHEL, Rocky, Alma, Fedora: dnf;
  # untested, NFS-Ganesha comes from EPEL or the CentOS Storage SIG
  # there), else Debian and Ubuntu (apt).
  packages = {
    debian = {
      kernel  = ["nfs-kernel-server"]
      ganesha = ["nfs-ganesha", "nfs-ganesha-vfs"]
      # builtin/gvfs-mount's (GVfs, FUSE, gio, D-Bus, the libnfs tools),
      # installed early: see client_packages.
      libnfs = ["libnfs-utils", "gvfs-backends", "gvfs-fuse", "libglib2.0-bin", "dbus"]
      client = ["nfs-common"]
    }
    rhel = {
      kernel  = ["nfs-utils"]
      ganesha = ["nfs-ganesha", "nfs-ganesha-vfs"]
      libnfs  = ["libnfs-utils", "gvfs", "gvfs-nfs", "gvfs-fuse", "glib2", "dbus"]
      client  = ["nfs-utils"]
    }
  }
  client_set = var.mount == "kernel" ? "client" : "libnfs"

  # Both servers trust the clients' root (no root squash): `diffuser verify`
  # writes as root, and the cluster a recipe builds is one trust domain.
  # With no clients nothing is exported (a path without hosts would be
  # exported to the world).
  kernel_exports = length(local.export_to) == 0 ? "# Written by diffuser (recipe nfs). No clients: nothing is exported.\n" : <<-EOT
    # Written by diffuser (recipe nfs); overwritten on every apply.
    ${var.export_path} ${join(" ", [for c in local.export_to : "${c}(rw,sync,no_subtree_check,no_root_squash)"])}
  EOT

  # Fixed ports for the NFSv3 side daemons, which pick random ones otherwise.
  # nfs-utils reads /etc/nfs.conf.d/*.conf: rpc.mountd [mountd], rpc.nfsd
  # the lockd ports, rpc.statd [statd] (NFS-Ganesha uses that statd too).
  nfs_conf = <<-EOT
    # Written by diffuser (recipe nfs); overwritten on every apply.
    [mountd]
    port = 20048
    [lockd]
    port = 32803
    udp-port = 32803
    [statd]
    port = 662
  EOT

  # NFS-Ganesha's core settings: a change needs a restart. builtin/ganesha
  # writes the export in a file of its own (ganesha.conf %includes it) so
  # that a change of clients is only a reload.
  ganesha_conf = <<-EOT
    # Written by diffuser (recipe nfs); overwritten on every apply.
    NFS_CORE_PARAM {
      Protocols = 3, 4;
      MNT_Port = 20048;
      NLM_Port = 32803;
    }
  EOT
  # VFS serves the files of the local (xfs) filesystem as they are.
  ganesha_fsal = <<-EOT
    FSAL {
      Name = VFS;
    }
  EOT
}

hosts "server" {
  count = 1
  volume "export" { size_gb = var.export_size_gb }
}

hosts "client" {
  count = var.clients
}

# ---------------------------------------------------------------- server

step "server_packages" {
  on      = hosts.server
  package = local.packages[host.facts.os.family == "rhel" ? "rhel" : "debian"][var.server]
  # Ganesha's VFS backend reaches every file with open_by_handle_at(2),
  # which needs CAP_DAC_READ_SEARCH: without it the daemon starts fine and
  # then answers every request with NFS3ERR_PERM / NFS4ERR_PERM. Docker
  # containers lack that capability unless given --cap-add DAC_READ_SEARCH.
  # Checked by diffuser once the server's facts are known, before anything
  # is installed on it.
  precondition {
    condition     = var.server != "ganesha" || contains(host.facts.capabilities, "dac_read_search")
    error_message = "NFS-Ganesha (FSAL VFS) needs CAP_DAC_READ_SEARCH for open_by_handle_at(2), and the capability bounding set of ${host.name} lacks it. In a container, add it (docker run --cap-add DAC_READ_SEARCH); or use server = \"kernel\"."
  }
}

# The export volume: XFS (refusing a device that already holds a
# filesystem: the export is never reformatted), mounted at export_path and
# in /etc/fstab.
module "export" {
  source = "builtin/xfs-volume"
  on     = hosts.server
  device = host.volume.export.device
  target = var.export_path
}

step "nfs_ports" {
  on    = hosts.server
  after = [step.server_packages]
  file {
    path    = "/etc/nfs.conf.d/diffuser-nfs.conf"
    content = local.nfs_conf
  }
  destroy = "rm -f /etc/nfs.conf.d/diffuser-nfs.conf"
}

# ---- server = "ganesha"

# ganesha.conf (core settings: a change restarts NFS-Ganesha), the export
# in a file of its own (a change of clients only reloads it), the service
# (stopped on destroy before the volume is unmounted: it holds it open)
# and port 2049. NFSv4 clients mount the pseudo path, NFSv3 clients the
# real one: the same here, so SERVER:export_path works for both. Nobody
# but export_to may mount (nothing is exported without clients: a path
# without clients would be exported to the world).
module "ganesha" {
  source = "builtin/ganesha"
  after  = [step.server_packages, module.export]
  hosts  = local.ganesha_server
  config = local.ganesha_conf
  export = {
    path    = var.export_path
    pseudo  = var.export_path
    fsal    = local.ganesha_fsal
    clients = local.export_to
  }
  export_file = "# Written by diffuser (recipe nfs); overwritten on every apply.\n"
}

# NFS-Ganesha's locks: nfs-ganesha-lock runs rpc.statd, which reads its
# port from /etc/nfs.conf.d: restarted when the ports change.
step "ganesha_lock" {
  on         = local.ganesha_server
  after      = [module.ganesha]
  restart_on = [step.nfs_ports]
  service {
    name  = "nfs-ganesha-lock"
    state = "started"
  }
}

# ---- server = "kernel"

step "kernel_exports" {
  on    = local.kernel_server
  after = [step.server_packages]
  # exportfs reads /etc/exports and /etc/exports.d/*.exports.
  file {
    path    = "/etc/exports.d/diffuser-nfs.exports"
    content = local.kernel_exports
  }
  # Unexport first, or nfsd keeps the volume busy and it cannot be unmounted.
  destroy = "rm -f /etc/exports.d/diffuser-nfs.exports; exportfs -ra"
}

step "kernel_service" {
  on    = local.kernel_server
  after = [module.export]
  # New ports need a restart; new exports only a reload (exportfs -r),
  # which mounted clients do not notice and which starts no new 90-second
  # grace period. The package starts the server before these files are
  # written: the first apply restarts it too. (destroy: kernel_exports
  # withdraws the export.)
  restart_on = [step.nfs_ports]
  reload_on  = [step.kernel_exports]
  service {
    name    = "nfs-server"
    state   = "started"
    enabled = true
  }
}

# The NFSv3 status monitor reads its port from /etc/nfs.conf.d: restarted
# when the ports change.
step "kernel_statd" {
  on         = local.kernel_server
  after      = [step.kernel_service]
  restart_on = [step.nfs_ports]
  service {
    name  = "rpc-statd"
    state = "started"
  }
}

step "kernel_port" {
  on    = local.kernel_server
  after = [step.kernel_statd]
  wait {
    port = 2049
  }
}

# ---------------------------------------------------------------- clients

# While the server is set up. In libnfs mode these are the packages
# module.libnfs installs again (quickly) once the server answers: the
# module waits for the server, and GVfs is the largest download.
step "client_packages" {
  on      = hosts.client
  package = local.packages[host.facts.os.family == "rhel" ? "rhel" : "debian"][local.client_set]
}

step "kernel_mount" {
  on    = local.kernel_clients
  after = [step.client_packages, step.kernel_port, module.ganesha, step.ganesha_lock]
  # A fresh NFSv4 server is in its grace period for a while; mounting works
  # during it, opening files waits.
  retries = 2
  mount {
    source  = "${local.server_ip}:${var.export_path}"
    target  = var.mount_point
    fstype  = "nfs"
    options = var.mount_options
    fstab   = true
  }
}

# ---- mount = "libnfs": GVfs's NFS backend through FUSE, kept up by the
# unit diffuser-gvfs-nfs.service.
module "libnfs" {
  source      = "builtin/gvfs-mount"
  after       = [step.client_packages, step.kernel_port, module.ganesha, step.ganesha_lock, step.gvfs_retire]
  clients     = local.libnfs_clients
  name        = "nfs"
  protocol    = "nfs"
  server      = local.server_ip
  share       = var.export_path
  mount_point = var.mount_point
}

# Keeps the module's unit started and enabled: refresh notices it stopped.
# (Its destroy is the module's mount step's.) It must have no destroy
# command: on a client applied before builtin/gvfs-mount, its record names
# diffuser-nfs-gvfs with a destroy that removes mount_point, and a destroy
# command here would make the new unit name a replacement running that one
# first, after module.libnfs linked mount_point: the new link would go
# (docs/recipes/nfs.md, docs/writing-recipes.md on replacements).
step "gvfs_service" {
  on    = local.libnfs_clients
  after = [module.libnfs]
  service {
    name    = "diffuser-gvfs-nfs"
    state   = "started"
    enabled = true
  }
}

# Before builtin/gvfs-mount held the libnfs mount, this recipe wrote its
# own unit, diffuser-nfs-gvfs.service, kept by gvfs_service (whose
# recorded destroy is replaced when it updates to the new unit). On a
# client applied then, the old unit is stopped and removed before the
# module's unit mounts the export again; elsewhere there is nothing to stop.
step "gvfs_retire" {
  on  = local.libnfs_clients
  run = <<-EOT
    systemctl disable --now diffuser-nfs-gvfs.service 2>/dev/null || true
    rm -f /etc/systemd/system/diffuser-nfs-gvfs.service /usr/local/sbin/diffuser-nfs-gvfs
    systemctl daemon-reload
  EOT
}

verify "roundtrip" {
  enabled = var.clients > 0 # clients = 0: nothing mounts the filesystem to check
  on      = hosts.client
  path    = var.mount_point
}

output "export" {
  description = "What clients mount (NFSv4 and NFSv3)."
  value       = "${local.server_ip}:${var.export_path}"
}
