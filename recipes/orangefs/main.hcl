recipe "orangefs" {
  description = "OrangeFS over N servers (each a data and a metadata server), built from the release tarball, mounted on every client with the kernel module or FUSE"
  # OrangeFS servers and clients speak BMI over TCP on one port.
  ports = ["22/tcp ssh", "3334/tcp orangefs (BMI tcp)"]
}

# No distribution packages OrangeFS (Fedora and EPEL aside): every host
# builds it from the release tarball, following OrangeFS's "Source Build
# Guide" (docs.orangefs.com, quickstart-build): ./configure
# --prefix=/opt/orangefs --with-db-backend=lmdb, make, make install; the
# server configuration from pvfs2-genconfig; storage made with
# `pvfs2-server -f -a ALIAS`; the server started with `pvfs2-server -a
# ALIAS`; clients run pvfs2-client (which starts pvfs2-client-core) and
# `mount -t pvfs2 tcp://SERVER:3334/orangefs`, the kernel module being the
# upstream one (Linux >= 4.6), or pvfs2fuse.

variable "servers" {
  type        = number
  default     = 2
  description = "Number of OrangeFS servers; each is both an I/O (data) and a metadata server. Fixed once created: OrangeFS splits its handle space among the servers in the configuration, and this recipe refuses to change that list."
  min         = 1
  integer     = true
}

variable "clients" {
  type        = number
  default     = 2
  description = "Number of client hosts that mount the file system. verify writes on the first and reads on the others."
  min         = 0
  integer     = true
}

variable "client_mount" {
  type        = string
  default     = "kernel"
  description = "How clients mount: \"kernel\" (the upstream orangefs kernel module, Linux >= 4.6, with pvfs2-client/pvfs2-client-core; OrangeFS's recommended Linux client) or \"fuse\" (pvfs2fuse: no kernel module needed, slower)."
  one_of      = ["kernel", "fuse"]
}

variable "storage_size_gb" {
  type        = number
  default     = 10
  description = "Size of each server's storage volume (formatted xfs; holds both data and metadata)."
  min         = 1
  integer     = true
}

variable "source_url" {
  type        = string
  default     = "https://s3.amazonaws.com/download.orangefs.org/current/source/orangefs-2.9.8.tar.gz"
  description = "The OrangeFS release tarball every host downloads and builds (2.9.8, the current release). Changing it rebuilds on every host."
  format      = "url"
  pattern     = ".*://.+\\.tar\\.gz"
}

variable "source_sha256" {
  type        = string
  default     = ""
  description = "SHA-256 of the tarball; when set, the build refuses a download that does not match. Empty skips the check (the release page publishes no checksum to pin here by default)."
  format      = "sha256"
  allow_empty = true
}

variable "cflags" {
  type        = string
  default     = "-O2 -fcommon -Wno-error=implicit-function-declaration -Wno-error=incompatible-pointer-types -Wno-error=int-conversion"
  description = "CFLAGS for the build. OrangeFS 2.9.8 (2020) predates GCC 10's -fno-common default and GCC 14's errors for old C idioms: these flags keep it building with newer compilers."
  pattern     = "[a-zA-Z0-9 =_.,+-]*"
}

variable "mount_point" {
  type        = string
  default     = "/mnt/orangefs"
  description = "Where clients mount the file system."
  format      = "absolute_path"
}

locals {
  prefix  = "/opt/orangefs"
  conf    = "/opt/orangefs/etc/orangefs-server.conf"
  storage = "/data/orangefs"
  port    = 3334
  # pvfs2-genconfig names the file system "orangefs".
  fs_spec = "tcp://${hosts.server[0].private_ip}:${local.port}/orangefs"

  # Every server is an I/O and a metadata server; its alias in the
  # configuration is its private address (pvfs2-server -a ADDRESS).
  server_ips = [for h in hosts.server : h.private_ip]

  # What every host builds (./modules/build): the same tree on servers and
  # clients.
  build = {
    source_url = var.source_url
    sha256     = var.source_sha256
    cflags     = var.cflags
    fuse       = var.client_mount == "fuse"
    prefix     = local.prefix
  }
}

hosts "server" {
  count = var.servers
  volume "storage" { size_gb = var.storage_size_gb }
}

hosts "client" {
  count = var.clients
}

# ---------------------------------------------------------------- servers

# Every host builds OrangeFS from the tarball for itself.
module "server_build" {
  source = "./modules/build"
  on     = hosts.server
  build  = local.build
}

# The storage volume: XFS (refusing a device that already holds a
# filesystem: storage is never reformatted), mounted and in /etc/fstab.
module "storage" {
  source = "builtin/xfs-volume"
  on     = hosts.server
  device = host.volume.storage.device
  target = local.storage
}

step "genconfig" {
  on    = hosts.server[0]
  after = [module.server_build]
  # One configuration for all servers, written once on the first server and
  # copied to the others (as OrangeFS's guide copies it): pvfs2-genconfig
  # divides the handle space among the servers it is given, so every server
  # must hold the same file. Once written, it is never regenerated: a
  # different server list would orphan the existing storage, so it is refused.
  run = <<-EOT
    set -e
    out=${local.conf}.generated
    want="${join(" ", sort(local.server_ips))}"
    if [ -s "$out" ]; then
      have=$(awk '$1 == "Alias" { print $2 }' "$out" | sort | tr '\n' ' ' | sed 's/ $//')
      if [ "$have" != "$want" ]; then
        echo "OrangeFS was configured for servers [$have]; the recipe now has [$want]. OrangeFS cannot change its server list in place: keep servers = ${length(local.server_ips)} as created, or destroy and apply again." >&2
        exit 1
      fi
      exit 0
    fi
    ${local.prefix}/bin/pvfs2-genconfig --quiet --protocol tcp --tcpport ${local.port} \
      --ioservers ${join(",", local.server_ips)} --metaservers ${join(",", local.server_ips)} \
      --storage ${local.storage}/data --metadata ${local.storage}/meta \
      --logfile /var/log/orangefs-server.log "$out.tmp"
    grep -q '^[[:space:]]*Alias ' "$out.tmp"
    mv "$out.tmp" "$out"
  EOT
  capture {
    conf = "cat ${local.conf}.generated"
  }
}

step "server_conf" {
  on    = hosts.server
  after = [module.server_build]
  file {
    path    = local.conf
    content = step.genconfig.outputs.conf
  }
}

step "server_storage" {
  on    = hosts.server
  after = [step.server_conf, module.storage]
  # `pvfs2-server -f` creates this server's collection (storage space) for
  # its alias; it must run once per server and never again on live data.
  run     = "set -e; ${local.prefix}/sbin/pvfs2-server -f -a ${host.private_ip} ${local.conf}; touch ${local.storage}/.diffuser-mkfs-done"
  creates = "${local.storage}/.diffuser-mkfs-done"
}

module "server_daemon" {
  source = "builtin/systemd-unit"
  on     = hosts.server
  after  = [module.server_build, step.server_storage]
  name   = "orangefs-server"
  # Stopped (destroy) before the storage is unmounted: it is after it.
  content = <<-EOT
    # Written by diffuser (recipe orangefs), after OrangeFS's examples/systemd.
    [Unit]
    Description=OrangeFS server ${host.private_ip}
    After=network-online.target local-fs.target
    Wants=network-online.target
    RequiresMountsFor=${local.storage}

    [Service]
    Type=simple
    ExecStart=${local.prefix}/sbin/pvfs2-server -d -a ${host.private_ip} ${local.conf}
    Restart=on-failure
    RestartSec=3

    [Install]
    WantedBy=multi-user.target
  EOT
}

step "server_port" {
  on    = hosts.server
  after = [module.server_daemon]
  wait {
    port = local.port
  }
}

# ---------------------------------------------------------------- clients

module "client_build" {
  source = "./modules/build"
  on     = hosts.client
  build  = local.build
}

step "pvfs2tab" {
  on    = hosts.client
  after = [module.client_build]
  # Where OrangeFS's own tools (pvfs2-ping, pvfs2-ls, pvfs2-cp) find the
  # file system, by mount point.
  file {
    path    = "/etc/pvfs2tab"
    content = "${local.fs_spec} ${var.mount_point} pvfs2 defaults,noauto 0 0\n"
  }
  destroy = "rm -f /etc/pvfs2tab"
}

step "servers_reachable" {
  on    = hosts.client
  after = [step.pvfs2tab, step.server_port]
  # pvfs2-ping asks every server listed in the configuration for its
  # status: the file system is usable from here.
  wait {
    command = "${local.prefix}/bin/pvfs2-ping -m ${var.mount_point} >/dev/null"
    timeout = "180s"
  }
}

# ---- client_mount = "kernel"

step "kernel_module" {
  on = var.client_mount == "kernel" ? hosts.client : []
  # The upstream module (fs/orangefs, Linux >= 4.6; Debian and Ubuntu build
  # it). OrangeFS before 2.9.3 does not speak its protocol.
  run = "set -e; modprobe orangefs; mkdir -p /etc/modules-load.d; echo orangefs > /etc/modules-load.d/orangefs.conf"
  # The module registers the file system type "pvfs2" (built in or loaded).
  unless = "grep -qw pvfs2 /proc/filesystems && grep -qx orangefs /etc/modules-load.d/orangefs.conf"
}

module "client_daemon" {
  source  = "builtin/systemd-unit"
  on      = var.client_mount == "kernel" ? hosts.client : []
  after   = [module.client_build, step.kernel_module]
  name    = "orangefs-client"
  content = <<-EOT
    # Written by diffuser (recipe orangefs), after OrangeFS's examples/systemd.
    # pvfs2-client starts and watches pvfs2-client-core, the bridge between
    # the kernel module and the servers.
    [Unit]
    Description=OrangeFS client (pvfs2-client-core for the orangefs kernel module)
    After=network-online.target systemd-modules-load.service
    Wants=network-online.target

    [Service]
    Type=simple
    ExecStart=${local.prefix}/sbin/pvfs2-client -f -p ${local.prefix}/sbin/pvfs2-client-core -L /var/log/orangefs-client.log
    Restart=on-failure
    RestartSec=3

    [Install]
    WantedBy=multi-user.target
  EOT
}

step "kernel_mount" {
  on    = var.client_mount == "kernel" ? hosts.client : []
  after = [module.client_daemon, step.servers_reachable]
  # Not in fstab: at boot it would race orangefs-client; `diffuser apply`
  # (or `mount -t pvfs2 ...` by hand) mounts it again.
  retries = 2
  mount {
    source = local.fs_spec
    target = var.mount_point
    fstype = "pvfs2"
  }
}

# ---- client_mount = "fuse"

module "fuse_daemon" {
  source  = "builtin/systemd-unit"
  on      = var.client_mount == "fuse" ? hosts.client : []
  after   = [module.client_build, step.servers_reachable]
  name    = "orangefs-fuse"
  content = <<-EOT
    # Written by diffuser (recipe orangefs).
    [Unit]
    Description=OrangeFS ${local.fs_spec} at ${var.mount_point} (pvfs2fuse)
    After=network-online.target
    Wants=network-online.target

    [Service]
    Type=simple
    ExecStartPre=/bin/mkdir -p ${var.mount_point}
    ExecStart=${local.prefix}/bin/pvfs2fuse ${var.mount_point} -f -o fs_spec=${local.fs_spec}
    ExecStopPost=-/bin/umount -l ${var.mount_point}
    Restart=on-failure
    RestartSec=3

    [Install]
    WantedBy=multi-user.target
  EOT
}

step "fuse_mounted" {
  on    = var.client_mount == "fuse" ? hosts.client : []
  after = [module.fuse_daemon]
  wait {
    command = "findmnt -n --mountpoint ${var.mount_point} >/dev/null && ls ${var.mount_point}/ >/dev/null"
    timeout = "60s"
  }
}

verify "roundtrip" {
  enabled = var.clients > 0 # clients = 0: nothing mounts the filesystem to check
  on      = hosts.client
  path    = var.mount_point
}

output "fs_spec" {
  description = "What clients mount: mount -t pvfs2 FS_SPEC MOUNT_POINT, or pvfs2fuse MOUNT_POINT -o fs_spec=FS_SPEC."
  value       = local.fs_spec
}

