# SeaweedFS, written from docs/writing-recipes.md as a user would write a
# recipe for a filesystem diffuser has no built-in recipe for. No
# distribution packages it, so the operator's machine fetches the release
# tarball once and `distribute` relays it to every host; systemd units run
# the one `weed` binary as master, volume server, filer and FUSE mount.
#
#   diffuser validate examples/recipes/seaweedfs
#   diffuser plan examples/recipes/seaweedfs --simulate
#
# cmd/diffuser/mistakes_test.go breaks this file one way at a time and
# checks that validate catches every mistake, on its line.
recipe "seaweedfs" {
  description = "SeaweedFS: one master, volume servers on their own volumes, a filer, FUSE clients (weed mount)"
  ports = [
    "22/tcp ssh",
    "9333/tcp master (HTTP)",
    "19333/tcp master (gRPC)",
    "8080/tcp volume servers (HTTP)",
    "18080/tcp volume servers (gRPC)",
    "8888/tcp filer (HTTP)",
    "18888/tcp filer (gRPC)",
  ]
}

variable "volume_servers" {
  type        = number
  default     = 3
  description = "Volume servers, one data volume each. Replication needs enough of them: 001 keeps a second copy on another server."
  validation {
    condition     = var.volume_servers >= 1
    error_message = "At least one volume server is needed."
  }
}

variable "clients" {
  type        = number
  default     = 1
  description = "Hosts that mount the filer at /mnt/seaweedfs with weed mount."
}

variable "volume_gb" {
  type        = number
  default     = 4
  description = "Size of each volume server's data volume."
}

variable "replication" {
  type        = string
  default     = "001"
  description = "SeaweedFS replication xyz: x copies in other data centers, y on other racks, z on other servers of the rack. 000 = one copy."
  validation {
    condition     = can(regex("^[0-2]{3}$", var.replication))
    error_message = "replication is three digits from 0 to 2, such as \"000\" or \"001\"."
  }
}

variable "weed_version" {
  type        = string
  default     = "3.80"
  description = "SeaweedFS release to install, its tag such as \"3.80\". It goes into commands as it is (the tarball's name, the version check), so only letters, digits, . _ and - pass."
  pattern     = "[0-9][0-9A-Za-z._-]*"
}

variable "weed_source" {
  type        = string
  default     = ""
  description = "Where the operator's machine reads the release tarball (a path or an http(s) URL). Empty: the project's GitHub release of weed_version."
}

variable "weed_sha256" {
  type        = string
  default     = ""
  description = "sha256 of the tarball, checked on every host when given."
}

locals {
  weed_source  = var.weed_source != "" ? var.weed_source : "https://github.com/seaweedfs/seaweedfs/releases/download/${var.weed_version}/linux_amd64.tar.gz"
  tarball      = "/opt/seaweedfs/weed-${var.weed_version}-linux_amd64.tar.gz"
  master_ip    = hosts.master[0].private_ip
  master       = "${local.master_ip}:9333"
  filer        = "${hosts.filer[0].private_ip}:8888"
  data_dir     = "/data/seaweedfs"
  mountpoint   = "/mnt/seaweedfs"
  replicated   = var.replication != "000"
  every_host   = concat(hosts.master, hosts.volume, hosts.filer, hosts.client)
  unit_preface = "# Written by diffuser (recipe seaweedfs).\n[Unit]\nAfter=network-online.target\nWants=network-online.target\n"
}

hosts "master" {
  count = 1
}

hosts "volume" {
  count = var.volume_servers
  volume "data" { size_gb = var.volume_gb }
}

hosts "filer" {
  count = 1
}

hosts "client" {
  count = var.clients
}

# ---- the weed binary, everywhere ----

step "weed_tarball" {
  on = local.every_host
  # Fetched once by the operator, then passed from host to host.
  distribute {
    source = local.weed_source
    dest   = local.tarball
    sha256 = var.weed_sha256 != "" ? var.weed_sha256 : null
    fanout = 2
  }
}

step "weed" {
  on    = local.every_host
  after = [step.weed_tarball]
  run   = "tar -xzf ${local.tarball} -C /usr/local/bin weed && chmod 0755 /usr/local/bin/weed"
  # A new release replaces the binary; the same one is left alone.
  unless = "/usr/local/bin/weed version 2>/dev/null | grep -qF ' ${var.weed_version} '"
  env    = { LC_ALL = "C" }
}

# ---- master ----

step "master_unit" {
  on = hosts.master
  file {
    path    = "/etc/systemd/system/seaweedfs-master.service"
    content = <<-EOT
      ${local.unit_preface}
      [Service]
      ExecStart=/usr/local/bin/weed master -ip=${host.private_ip} -port=9333 -mdir=/var/lib/seaweedfs/master -defaultReplication=${var.replication}
      Restart=on-failure

      [Install]
      WantedBy=multi-user.target
    EOT
    mode    = "0644"
    owner   = "root"
  }
}

step "master_dir" {
  on      = hosts.master
  run     = "mkdir -p /var/lib/seaweedfs/master"
  creates = "/var/lib/seaweedfs/master"
}

step "master" {
  on    = hosts.master
  after = [step.weed, step.master_unit, step.master_dir]
  service {
    name          = "seaweedfs-master"
    state         = "started"
    enabled       = true
    daemon_reload = true
  }
}

step "master_up" {
  on    = hosts.master
  after = [step.master]
  wait {
    port     = 9333
    host     = local.master_ip
    timeout  = "90s"
    interval = "2s"
  }
}

# ---- volume servers ----

step "data_fs" {
  on = hosts.volume
  # Refuses a device that already holds a filesystem: data is never wiped.
  format {
    device = host.volume.data.device
    fstype = "xfs"
    label  = "swfs-data"
  }
}

step "data_mount" {
  on    = hosts.volume
  after = [step.data_fs]
  mount {
    source  = host.volume.data.device
    target  = local.data_dir
    fstype  = "xfs"
    options = "noatime"
    fstab   = true
  }
  # The volume server keeps files open on the mount: stop it first.
  destroy = "systemctl stop seaweedfs-volume 2>/dev/null || true"
}

step "volume_unit" {
  on = hosts.volume
  file {
    path    = "/etc/systemd/system/seaweedfs-volume.service"
    content = <<-EOT
      ${local.unit_preface}
      [Service]
      ExecStart=/usr/local/bin/weed volume -ip=${host.private_ip} -port=8080 -dir=${local.data_dir} -max=0 -mserver=${local.master} -rack=rack1 -dataCenter=dc1
      Restart=on-failure

      [Install]
      WantedBy=multi-user.target
    EOT
  }
}

step "volume_server" {
  on        = hosts.volume
  after     = [step.weed, step.volume_unit, step.data_mount]
  after_all = [step.master_up]
  service {
    name          = "seaweedfs-volume"
    enabled       = true
    daemon_reload = true
  }
  timeout = "2m"
  retries = 2
}

# ---- filer ----

step "filer_unit" {
  on = hosts.filer
  file {
    path    = "/etc/systemd/system/seaweedfs-filer.service"
    content = <<-EOT
      ${local.unit_preface}
      [Service]
      ExecStartPre=/bin/mkdir -p /var/lib/seaweedfs/filer
      ExecStart=/usr/local/bin/weed filer -ip=${host.private_ip} -port=8888 -master=${local.master} -defaultStoreDir=/var/lib/seaweedfs/filer
      Restart=on-failure

      [Install]
      WantedBy=multi-user.target
    EOT
  }
}

step "filer" {
  on        = hosts.filer
  after     = [step.weed, step.filer_unit]
  after_all = [step.master_up]
  service {
    name          = "seaweedfs-filer"
    enabled       = true
    daemon_reload = true
  }
}

step "filer_up" {
  on    = hosts.filer
  after = [step.filer]
  wait {
    command = "curl -fsS -o /dev/null http://127.0.0.1:8888/"
    timeout = "2m"
  }
}

# ---- cluster ----

step "master_tools" {
  on = hosts.master
  package {
    names        = ["curl", "jq"]
    update_cache = true
  }
}

step "cluster_status" {
  on        = hosts.master
  after     = [step.master_tools, step.master_up]
  after_all = [step.volume_server]
  # Every volume server has registered with the master before clients
  # write. It only reads, so it needs no guard; retries wait for stragglers.
  run = "curl -fsS http://127.0.0.1:9333/dir/status | jq -e '[.Topology.DataCenters[].Racks[].DataNodes[]] | length >= ${var.volume_servers}' >/dev/null"
  capture {
    volume_servers = "curl -fsS http://127.0.0.1:9333/dir/status | jq '[.Topology.DataCenters[].Racks[].DataNodes[]] | length'"
    leader         = "curl -fsS http://127.0.0.1:9333/cluster/status | jq -r .Leader"
  }
  retries = 5
}

# ---- clients ----

step "client_packages" {
  on      = hosts.client
  package = ["fuse3"]
}

step "mount_unit" {
  on = hosts.client
  file {
    path    = "/etc/systemd/system/seaweedfs-mount.service"
    content = <<-EOT
      ${local.unit_preface}
      [Service]
      ExecStartPre=/bin/mkdir -p ${local.mountpoint}
      ExecStart=/usr/local/bin/weed mount -filer=${local.filer} -dir=${local.mountpoint} -filer.path=/ -replication=${var.replication}
      ExecStop=/bin/fusermount3 -u ${local.mountpoint}
      Restart=on-failure

      [Install]
      WantedBy=multi-user.target
    EOT
  }
}

step "mount" {
  on        = hosts.client
  after     = [step.weed, step.client_packages, step.mount_unit]
  after_all = [step.filer_up, step.cluster_status]
  service {
    name          = "seaweedfs-mount"
    enabled       = true
    daemon_reload = true
  }
  destroy = "systemctl stop seaweedfs-mount 2>/dev/null || true"
}

step "mounted" {
  on    = hosts.client
  after = [step.mount]
  wait {
    command = "mountpoint -q ${local.mountpoint}"
    timeout = "60s"
  }
}

verify "roundtrip" {
  on   = hosts.client
  path = local.mountpoint
  # With a second copy, stop volume[0] and read again: the client must get
  # every chunk from the other copy.
  failover {
    on    = hosts.volume[0]
    stop  = local.replicated ? "systemctl stop seaweedfs-volume" : "echo 'replication 000: one copy, nothing stopped'"
    start = "systemctl start seaweedfs-volume"
  }
}

output "master" {
  value = "http://${local.master}"
}

output "filer" {
  value = "http://${local.filer}"
}

output "volume_servers" {
  value = step.cluster_status.outputs.volume_servers
}

output "leader" {
  value = step.cluster_status.outputs.leader
}
