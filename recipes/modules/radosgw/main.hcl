module_info {
  description = "Ceph RADOS gateways (Debian's radosgw, beast frontend) on hosts of a running cluster, with one S3 user whose keys are sensitive outputs"
}

# The layout: the admin host (a monitor with client.admin) makes the
# gateways' pools and the client.bootstrap-rgw user, and hands that user's
# key to the gateway hosts through a sensitive output (as the ceph recipe
# hands client.bootstrap-osd to OSD hosts). Each gateway then creates its own
# client.rgw.<hostname> key with it; that key never leaves the gateway. The
# first gateway creates the S3 user with radosgw-admin.

variable "gateways" {
  description = "the hosts that run a gateway each, e.g. hosts.gateway"
}

variable "admin" {
  description = "one host with /etc/ceph/ceph.client.admin.keyring, e.g. hosts.mon[0]"
}

variable "ceph_conf" {
  type        = string
  description = "the cluster's /etc/ceph/ceph.conf (fsid, mon_host), written on every gateway"
}

variable "port" {
  type        = number
  default     = 7480
  description = "TCP port of the beast frontend (HTTP)"
  min         = 1
  max         = 65535
  integer     = true
}

variable "user" {
  type        = string
  default     = "diffuser"
  description = "uid of the S3 user radosgw-admin creates"
  pattern     = "[a-z][a-z0-9_-]{0,63}"
}

variable "pg_num" {
  type        = number
  default     = 8
  description = "placement groups of each gateway pool (the bucket data pool gets twice as many); small, so that a few OSDs stay under mon_max_pg_per_osd next to CephFS"
  min         = 1
  max         = 1024
  integer     = true
}

locals {
  cephx_key_re = "[A-Za-z0-9+/]{38,}={0,2}"
  # The pools radosgw would otherwise create with osd_pool_default_pg_num
  # (32 each in Ceph 16: seven of them crowd a small cluster).
  pools = [".rgw.root", "default.rgw.control", "default.rgw.meta", "default.rgw.log",
  "default.rgw.buckets.index", "default.rgw.buckets.non-ec"]
  data_pool = "default.rgw.buckets.data"
  # radosgw-admin as the first gateway's own user (steps on that gateway).
  first     = try(var.gateways[0].hostname, "none")
  admin_cmd = "radosgw-admin --name client.rgw.${local.first} --keyring /var/lib/ceph/radosgw/ceph-rgw.${local.first}/keyring"
}

step "bootstrap" {
  on        = var.admin
  sensitive = true
  run       = <<-EOT
    set -e
    for p in ${join(" ", local.pools)}; do
      ceph osd pool ls | grep -qxF "$p" || ceph osd pool create "$p" ${var.pg_num}
      ceph osd pool application enable "$p" rgw >/dev/null 2>&1 || true
    done
    ceph osd pool ls | grep -qxF ${local.data_pool} || ceph osd pool create ${local.data_pool} ${var.pg_num * 2}
    ceph osd pool application enable ${local.data_pool} rgw >/dev/null 2>&1 || true
    ceph auth get client.bootstrap-rgw >/dev/null 2>&1 ||
      ceph auth get-or-create client.bootstrap-rgw mon 'profile bootstrap-rgw' >/dev/null
  EOT
  unless    = "ceph auth get client.bootstrap-rgw >/dev/null 2>&1 && ceph osd pool ls | grep -qxF ${local.data_pool}"
  # Only a cephx key passes: it is pasted into a keyring.
  capture { key = "ceph auth print-key client.bootstrap-rgw | grep -xE '${local.cephx_key_re}'" }
}

step "frontend" {
  on = var.admin
  # In the monitors' configuration database, as cephadm keeps it: every
  # client.rgw.* daemon serves HTTP on the port.
  run    = "ceph config set client.rgw rgw_frontends ${shellquote("beast port=${var.port}")}"
  unless = "[ \"$(ceph config get client.rgw rgw_frontends)\" = ${shellquote("beast port=${var.port}")} ]"
}

step "packages" {
  on      = var.gateways
  package = ["radosgw", "ceph-common"]
}

# ceph.conf, and the bootstrap user's keyring the gateway makes its own key with.
module "files" {
  source       = "builtin/ceph-conf"
  on           = var.gateways
  after        = [step.packages]
  conf         = var.ceph_conf
  keyring_path = "/var/lib/ceph/bootstrap-rgw/ceph.keyring"
  keyring      = <<-EOT
    [client.bootstrap-rgw]
        key = ${try(step.bootstrap.outputs.key, "")}
  EOT
}

step "keyring" {
  on    = var.gateways
  after = [module.files]
  # The gateway's own key, made with the bootstrap user's narrow caps
  # (profile bootstrap-rgw may only create client.rgw.* keys).
  #
  # /var/lib/ceph and what is under it belong to ceph: any Ceph daemon's
  # process could put a link there. So no name in them is followed as a
  # link: each directory is entered with cd -P and must then be the child
  # of the one it was entered from; the key is written, chowned and
  # chmodded in a new directory of root's (mktemp -d, checked after cd)
  # where nobody else can put anything, and renamed into the gateway's
  # directory relative to it. Before, install -d -o ceph chowned what a
  # link at the gateway's directory pointed to, and ceph -o, chown and
  # chmod went through a link at keyring.tmp.
  run     = <<-EOT
    set -e
    enter() {
      up=$(stat -c %d:%i .)
      cd -P -- "./$1"
      if [ "$(stat -c %d:%i ..)" != "$up" ]; then
        echo "$w/$1 is a symbolic link in a directory of the ceph user's (to $PWD): refusing to write through it; make it a real directory" >&2
        exit 1
      fi
      w=$w/$1
    }
    w=/var/lib/ceph
    mkdir -p $w
    cd $w
    [ -e radosgw ] || [ -L radosgw ] || mkdir -m 0755 radosgw
    enter radosgw
    g=ceph-rgw.${host.hostname}
    [ -e $g ] || [ -L $g ] || mkdir -m 0755 $g
    enter $g
    t=$(mktemp -d .keyring.XXXXXX)
    enter $t
    if [ "$(stat -c %u:%a .)" != 0:700 ]; then
      echo "$w is not the directory mktemp made: another process replaced it" >&2
      exit 1
    fi
    ceph --name client.bootstrap-rgw --keyring /var/lib/ceph/bootstrap-rgw/ceph.keyring \
      auth get-or-create client.rgw.${host.hostname} mon 'allow rw' osd 'allow rwx' -o keyring
    chown ceph:ceph keyring
    chmod 0600 keyring
    mv -T keyring ../keyring
    cd ..
    rmdir -- $t || true
    chown ceph:ceph .
  EOT
  creates = "/var/lib/ceph/radosgw/ceph-rgw.${host.hostname}/keyring"
  destroy = "rm -rf /var/lib/ceph/radosgw/ceph-rgw.${host.hostname}"
}

step "service" {
  on        = var.gateways
  after     = [step.keyring]
  after_all = [step.frontend]
  service {
    name    = "ceph-radosgw@rgw.${host.hostname}"
    state   = "started"
    enabled = true
  }
  destroy = "systemctl disable --now ceph-radosgw@rgw.${host.hostname} || true"
}

step "listening" {
  on    = var.gateways
  after = [step.service]
  # The first start writes the default zone into the pools before beast
  # listens: minutes on a loaded machine.
  wait {
    command = "python3 -c 'import socket; socket.create_connection((\"127.0.0.1\", ${var.port}), 5)'"
    timeout = "300s"
  }
}

step "user" {
  on        = [for i, h in var.gateways : h if i == 0]
  after     = [step.listening]
  sensitive = true
  # radosgw-admin with the gateway's own key. Created once; its keys are
  # read back on every apply (radosgw-admin user info).
  run    = <<-EOT
    set -e
    ${local.admin_cmd} user info --uid=${var.user} >/dev/null 2>&1 ||
      ${local.admin_cmd} user create --uid=${var.user} --display-name=${shellquote("diffuser S3 user ${var.user}")} >/dev/null
  EOT
  unless = "${local.admin_cmd} user info --uid=${var.user} >/dev/null 2>&1"
  # Captures are untrusted: only key-shaped strings pass.
  capture {
    access_key = "${local.admin_cmd} user info --uid=${var.user} | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"keys\"][0][\"access_key\"])' | grep -xE '[A-Za-z0-9]{16,128}'"
    secret_key = "${local.admin_cmd} user info --uid=${var.user} | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"keys\"][0][\"secret_key\"])' | grep -xE '[A-Za-z0-9+/]{30,128}'"
  }
  destroy = "${local.admin_cmd} user rm --uid=${var.user} --purge-data || true"
}

output "endpoints" {
  value       = [for h in var.gateways : "http://${h.private_ip}:${var.port}"]
  description = "one S3 endpoint URL per gateway (path-style addressing, region default)"
}

output "access_key" {
  value       = try(step.user.outputs.access_key, "") # "" without gateways
  sensitive   = true
  description = "the S3 user's access key id"
}

output "secret_key" {
  value       = try(step.user.outputs.secret_key, "")
  sensitive   = true
  description = "the S3 user's secret access key"
}
