recipe "glusterfs" {
  description = "GlusterFS volume over N servers (distributed, replicated or dispersed), FUSE-mounted on every client"
  # GlusterFS needs these open between members; cloud providers document them on the cluster firewall.
  # Bricks: one port per brick process (one brick per server here), which
  # GlusterFS 10 picks at random between base-port and max-port of
  # /etc/glusterfs/glusterd.vol: 49152-60999 as packaged.
  ports = ["22/tcp ssh", "111/tcp+udp portmapper", "24007-24008/tcp glusterd", "49152-60999/tcp bricks"]
}

variable "servers" {
  type        = number
  default     = 2
  description = "Number of GlusterFS servers, one brick each. A multiple of replica (or of disperse). Raise it and apply again to grow the volume; shrinking is refused."
  min         = 1
  max         = 100000 # the most hosts a recipe may have
  integer     = true
}

variable "replica" {
  type        = number
  default     = 2
  description = "Copies of every file: 1 = distributed (no redundancy), 2 or 3 = replicated. The server count must be a multiple of it."
  min         = 1
  max         = 3
  integer     = true
}

variable "disperse" {
  type        = number
  default     = 0
  description = "Erasure coding: bricks per dispersed set (0 = off, else at least 3). When set, replica must be 1 and the server count a multiple of it."
  integer     = true
  validation {
    condition     = var.disperse == 0 || var.disperse >= 3
    error_message = "disperse must be 0 (off) or at least 3."
  }
}

variable "disperse_redundancy" {
  type        = number
  default     = 1
  description = "Bricks per dispersed set that may fail without losing data; less than half of disperse."
  min         = 1
  integer     = true
}

variable "clients" {
  type        = number
  default     = 1
  description = "Number of client hosts that FUSE-mount the volume."
  min         = 0
  integer     = true
}

variable "mount_point" {
  type        = string
  default     = "/mnt/gluster"
  description = "Where every client mounts the volume (kept in /etc/fstab)."
  format      = "absolute_path"
}

variable "brick_size_gb" {
  type        = number
  default     = 2
  description = "Size of each server's brick volume."
  min         = 1
  integer     = true
}

variable "volume_name" {
  type        = string
  default     = "gv0"
  description = "Name of the GlusterFS volume; clients mount SERVER:/NAME."
  pattern     = "[a-zA-Z][a-zA-Z0-9_-]*"
}

locals {
  # Bricks per replica or disperse set: GlusterFS groups consecutive bricks
  # of the create / add-brick list into sets of this size.
  set_size  = var.disperse > 0 ? var.disperse : var.replica
  redundant = var.disperse > 0 || var.replica > 1
  layout = (
    var.disperse > 0 ? "disperse ${var.disperse} redundancy ${var.disperse_redundancy}" :
    var.replica > 1 ? "replica ${var.replica}" :
    ""
  )
  # The set as `gluster volume info` writes it in "Number of Bricks: N x SET
  # = M" ("" for a distributed volume, which has no sets).
  set_shown = (
    var.disperse > 0 ? "(${var.disperse - var.disperse_redundancy} + ${var.disperse_redundancy})" :
    var.replica > 1 ? "${var.replica}" :
    ""
  )
  # Servers join the trusted storage pool in two rounds, because only a
  # pool member can probe a newcomer in: server[0] probes servers 1 to
  # probers-1 (pool_seed), then each of those first `probers` servers
  # probes its share of the rest, all at once (pool_join). With
  # probers = ceil(sqrt(servers)) the longest chain of probes is about
  # 2*sqrt(servers): 62 instead of 999 at 1,000 servers.
  probers = min(var.servers, ceil(pow(var.servers, 0.5)))
  # What pool member i probes: servers probers+i, 2*probers+i, ...
  probe_targets = [for i in range(local.probers) :
  [for j in range(local.probers + i, max(var.servers, local.probers + i), local.probers) : local.server_ips[j]]]
  server_ips  = hosts.server[*].private_ip
  server_list = join(" ", local.server_ips)
  brick_dir   = "/data/brick/${var.volume_name}"
  brick_list  = [for ip in local.server_ips : "${ip}:${local.brick_dir}"]
  bricks      = join(" ", local.brick_list)
  # A shell function listing the pool's peers the recipe no longer lists
  # that hold no brick (pool_prune detaches them). A peer has several names
  # (the address it was probed by, the host name it told), and peer status
  # may show any of them, a host name alone included. It is kept when one
  # of its names is a server's address or a brick's host, or when a host
  # name of it resolves (getent ahosts: every address) to one of those, or
  # to an address a host name among those resolves to. A name that
  # resolves to nothing counts as itself. Names are looked up only for a
  # peer none of whose names is kept as written.
  left_peers = <<-EOT
    left_peers() {
      keep=" ${join(" ", local.server_ips)} $(gluster volume info 2>/dev/null | sed -n 's/^Brick[0-9]*: \([^:]*\):.*/\1/p' | tr '\n' ' ') "
      # The addresses the host names among $@ resolve to (addresses are
      # not looked up).
      addrs() {
        for n in "$@"; do
          case "$n" in
            *:*) ;;
            *[!0-9.]*) getent ahosts "$n" 2>/dev/null | awk '{print $1}' ;;
          esac
        done | sort -u
      }
      kept() {
        for n in "$@"; do
          case "$keep" in *" $n "*) return 0 ;; esac
        done
        [ -n "$keep_addrs" ] || keep_addrs=" $(addrs $keep | tr '\n' ' ') "
        for a in "$@" $(addrs "$@"); do
          case "$keep$keep_addrs" in *" $a "*) return 0 ;; esac
        done
        return 1
      }
      keep_addrs=
      gluster peer status | awk '
        /^Hostname: / { if (names != "") print names; names = $2; other = 0; next }
        /^Other names:/ { other = 1; next }
        /^$/ { other = 0; next }
        other { names = names " " $1 }
        END { if (names != "") print names }' |
      while read -r first rest; do
        kept $first $rest || echo "$first"
      done
    }
  EOT
  # Set on server[0] between add-brick and a started rebalance, so a retry
  # after a partial run still rebalances.
  rebalance_marker = "/var/lib/glusterd/diffuser-rebalance-${var.volume_name}"
  # The server verify's failover stops: server[1] is in the first replica or
  # disperse set with server[0].
  failover_server = hosts.server[local.redundant ? 1 : 0]
  # Stopping glusterd leaves this server's brick processes (glusterfsd)
  # running: they are killed too, and waited for (up to 30 s) until they
  # have let go of the brick.
  stop_bricks  = <<-EOT
    systemctl stop glusterd 2>/dev/null || true
    pkill -x glusterfsd || true
    for i in $(seq 1 30); do pgrep -x glusterfsd >/dev/null || break; sleep 1; done
  EOT
  stop_server  = "${local.stop_bricks}! pgrep -x glusterfsd >/dev/null"
  start_server = <<-EOT
    systemctl start glusterd || exit 1
    for i in $(seq 1 60); do
      gluster volume status ${var.volume_name} ${local.failover_server.private_ip}:${local.brick_dir} detail 2>/dev/null | grep -q '^Online.*: Y' && exit 0
      sleep 1
    done
    echo "brick ${local.failover_server.private_ip}:${local.brick_dir} is not back online" >&2
    exit 1
  EOT
}

hosts "server" {
  count = var.servers
  volume "brick" { size_gb = var.brick_size_gb }
  # What a replaced server's data goes through (step.brick_rejoin, at the end).
  replace_note = (local.redundant ?
    "the new server takes the old one's place in the pool (same address and UUID), its empty brick is healed from the other ${var.disperse > 0 ? "bricks of its disperse set" : "copies of its replica set"}; the volume stays readable meanwhile" :
  "distributed volume (replica 1): a dead server's files are lost with its brick (a live one is drained first: its files move to the other bricks); the new server's empty brick rejoins the volume")

  # Layouts `gluster volume create` would refuse, minutes into an apply,
  # are refused by validate and plan before anything is launched.
  precondition {
    condition     = var.disperse == 0 || var.replica == 1
    error_message = "A volume is replicated or dispersed, not both: set replica = 1 with disperse = ${var.disperse}."
  }
  precondition {
    condition     = var.disperse == 0 || var.disperse_redundancy * 2 < var.disperse
    error_message = "disperse_redundancy (${var.disperse_redundancy}) must be less than half of disperse (${var.disperse})."
  }
  precondition {
    condition     = var.servers % local.set_size == 0
    error_message = "servers (${var.servers}) must be a multiple of ${var.disperse > 0 ? "disperse" : "replica"} (${local.set_size}): GlusterFS groups consecutive bricks into sets of that size."
  }
}

hosts "client" {
  count = var.clients
}

variable "package_repository" {
  type        = any
  default     = null
  description = "null: the distribution's GlusterFS packages. Else a package repository (builtin/package-repo) every server, client and gateway gets before its packages, such as GlusterFS 11 from download.gluster.org: { name, uris, suites, components, key (the armored public key's text), architectures (optional) }; see docs/recipes/glusterfs.md"
  # Checked here, at the -var or -var-file that gives it: a missing or
  # misspelt attribute was otherwise an error at this recipe's lines that
  # read it, or (architectures) dropped without a word.
  validation {
    condition     = var.package_repository == null || try(length([for k in ["name", "uris", "suites", "components", "key"] : k if !contains(keys(var.package_repository), k)]) + length([for k in keys(var.package_repository) : k if !contains(["name", "uris", "suites", "components", "key", "architectures"], k)]) == 0, false)
    error_message = "package_repository is null or an object with exactly these attributes: name, uris, suites, components, key, and optionally architectures (docs/recipes/glusterfs.md shows one in a -var-file)."
  }
}

# Off without a repository: the module's inputs are then not read, and
# nothing is made.
module "package_repository" {
  source        = "builtin/package-repo"
  hosts         = concat(hosts.server, hosts.client, hosts.gateway)
  name          = var.package_repository.name
  uris          = var.package_repository.uris
  suites        = var.package_repository.suites
  components    = var.package_repository.components
  key           = var.package_repository.key
  architectures = try(var.package_repository.architectures, null)
  lifecycle {
    enabled = var.package_repository != null
  }
}

step "packages" {
  on      = hosts.server
  after   = [module.package_repository]
  package = ["glusterfs-server"]
}

# The brick filesystem: XFS (refusing a device that already holds a
# filesystem: bricks are never reformatted), mounted at /data/brick and in
# /etc/fstab.
module "brick" {
  source = "builtin/xfs-volume"
  on     = hosts.server
  device = host.volume.brick.device
  target = "/data/brick"
  # GlusterFS keeps its metadata in extended attributes; 512-byte inodes keep them inline.
  mkfs_options = ["-i", "size=512"]
  # The brick process (glusterfsd) holds the filesystem open, and stopping
  # glusterd leaves it running. The volume step's destroy (on server[0], run
  # at the same time) stops the bricks cluster-wide: wait until this brick
  # has left the volume, then stop whatever is left, so the unmount succeeds.
  before_unmount = <<-EOT
    for i in $(seq 1 90); do
      gluster volume info ${var.volume_name} 2>/dev/null | grep -qF ': ${host.private_ip}:${local.brick_dir}' || break
      sleep 1
    done
    ${local.stop_bricks}
  EOT
}

step "glusterd" {
  on    = hosts.server
  after = [step.packages]
  service {
    name    = "glusterd"
    state   = "started"
    enabled = true
  }
}

# A server that left the recipe without a brick (launched and probed by a
# grow that failed, then servers lowered again) stays in the pool as a
# peer, and a new server given its address later would be "Peer Rejected":
# peers the recipe no longer lists are detached. One that still holds a
# brick is left for step.volume, which refuses to shrink.
step "pool_prune" {
  on      = hosts.server[0]
  after   = [step.glusterd, step.brick_rejoin]
  run     = <<-EOT
    ${local.left_peers}
    failed=
    for p in $(left_peers); do
      echo "$p is in the pool but not in the recipe, and holds no brick: detaching it"
      gluster --mode=script peer detach "$p" force || failed="$failed $p"
    done
    if [ -n "$failed" ]; then
      echo "could not detach$failed (gluster peer detach failed; see above)" >&2
      exit 1
    fi
  EOT
  unless  = <<-EOT
    ${local.left_peers}
    [ -z "$(left_peers)" ]
  EOT
  retries = 1
}

step "pool_seed" {
  on = hosts.server[0]
  # After brick_rejoin: a new server[0] (replaced) first takes the old one's
  # place in the pool; probing the others from a fresh glusterd would be
  # refused (they belong to a pool it is not in).
  after = [step.glusterd, step.brick_rejoin, step.pool_prune]
  # Probing a server already in the pool is a no-op. A probed server can
  # probe others only once it is "Peer in Cluster": wait for that.
  run = <<-EOT
    set -e
    ${join("\n", [for ip in slice(local.server_ips, 1, local.probers) : "gluster --mode=script peer probe ${ip}"])}
    for i in $(seq 1 120); do
      [ "$(gluster peer status | grep -c 'Peer in Cluster (Connected)' || true)" -ge ${local.probers - 1} ] && exit 0
      sleep 1
    done
    echo "the first ${local.probers} servers did not all reach 'Peer in Cluster':" >&2
    gluster peer status >&2
    exit 1
  EOT
}

step "pool_join" {
  on    = slice(hosts.server, 0, local.probers)
  after = [step.pool_seed]
  # The pool's members probe their shares at the same time.
  run     = join("\n", concat(["set -e"], [for ip in local.probe_targets[host.index] : "gluster --mode=script peer probe ${ip}"]))
  retries = 2
}

step "volume" {
  on    = hosts.server[0]
  after = [step.pool_join, module.brick]
  # Creates the volume, or grows it: the command changes whenever the server
  # list does, and then adds the bricks the volume lacks and rebalances.
  run = <<-EOT
    set -e
    V=${var.volume_name}
    # A probed peer is usable only once it reaches "Peer in Cluster";
    # volume create and add-brick fail before that.
    peers() { gluster peer status | grep -c 'Peer in Cluster (Connected)' || true; }
    for i in $(seq 1 120); do
      [ "$(peers)" -ge ${var.servers - 1} ] && break
      sleep 1
    done
    if [ "$(peers)" -lt ${var.servers - 1} ]; then
      gluster peer status >&2
      echo "only $(peers) of ${var.servers - 1} peers are in the cluster (peer status above)" >&2
      exit 1
    fi
    if ! gluster volume info $V >/dev/null 2>&1; then
      # Another volume with its bricks in /data/brick is this recipe's under
      # an earlier volume_name. GlusterFS cannot rename a volume, and a
      # second one would leave the data in the first while the clients
      # mount an empty one: refused.
      for o in $(gluster volume list 2>/dev/null | grep -v '^No volumes'); do
        if gluster volume info "$o" 2>/dev/null | grep -q '^Brick[0-9]*: [^ ]*:/data/brick/'; then
          echo "volume $o, made by this recipe (its bricks are in /data/brick), holds the data; volume_name is $V now." >&2
          echo "GlusterFS cannot rename a volume: set volume_name back to $o; or copy the data off, delete $o yourself (gluster volume stop $o; gluster volume delete $o) and apply again." >&2
          exit 1
        fi
      done
      gluster --mode=script volume create $V ${local.layout} ${local.bricks} force
    else
      # The layout is fixed when the volume is made: a changed replica or
      # disperse would add bricks in sets of the wrong size (GlusterFS
      # refuses them, after new servers were launched and probed).
      set=$(gluster volume info $V | sed -n 's/^Number of Bricks: [0-9]* x \(.*\) = .*/\1/p')
      if [ "$set" != "${local.set_shown}" ]; then
        case "$set" in
          "") now="distributed (replica = 1, disperse = 0)" ;;
          "("*) now="dispersed (disperse = $(echo "$set" | tr -d '()' | awk '{print $1 + $3}'), disperse_redundancy = $(echo "$set" | tr -d '()' | awk '{print $3}'), replica = 1)" ;;
          *) now="replicated (replica = $set)" ;;
        esac
        echo "volume $V is $now; the recipe now says replica = ${var.replica}, disperse = ${var.disperse}." >&2
        echo "This recipe does not change the layout of a live volume: set replica and disperse back; or copy the data off, delete $V yourself (gluster volume stop $V; gluster volume delete $V) and apply again." >&2
        exit 1
      fi
      have=$(gluster volume info $V | sed -n 's/^Brick[0-9]*: //p')
      for b in $have; do
        case " ${local.bricks} " in
          *" $b "*) ;;
          *) echo "brick $b is in volume $V but its server is not in the recipe: shrinking is not supported." >&2
             echo "Move its data off first (gluster volume remove-brick $V ... start, then commit), then apply again." >&2
             exit 1 ;;
        esac
      done
      missing=""
      for b in ${local.bricks}; do
        echo "$have" | grep -qxF "$b" || missing="$missing $b"
      done
      if [ -n "$missing" ]; then
        if gluster volume rebalance $V status 2>/dev/null | grep -q 'in progress'; then
          echo "a rebalance of $V is still running; apply again once 'gluster volume rebalance $V status' shows completed" >&2
          exit 1
        fi
        # A rebalance already owed (a run that died after add-brick) stays
        # owed if this add-brick fails; else the marker goes with it.
        owed=false
        [ -e ${local.rebalance_marker} ] && owed=true
        touch ${local.rebalance_marker}
        # Bricks are added in whole sets (${local.set_size} at a time), in server order.
        if ! gluster --mode=script volume add-brick $V $missing force; then
          $owed || rm -f ${local.rebalance_marker}
          exit 1
        fi
      fi
    fi
    gluster volume info $V | grep -q '^Status: Started' ||
      gluster --mode=script volume start $V
    if [ -e ${local.rebalance_marker} ]; then
      # Spreads the directory layout over the new bricks and moves files there;
      # the data stays readable meanwhile. A volume of one set has nothing to
      # spread over (GlusterFS refuses the rebalance): a marker left by an
      # add-brick that failed before this guard existed goes.
      if ! gluster volume info $V | grep -Eq '^Number of Bricks: (1 x |1$)'; then
        gluster --mode=script volume rebalance $V start
      fi
      rm -f ${local.rebalance_marker}
    fi
  EOT
  # Done when the volume is started with exactly the recipe's bricks, in
  # sets of the recipe's layout, and no rebalance is owed.
  unless  = <<-EOT
    i=$(gluster volume info ${var.volume_name} 2>/dev/null) &&
      echo "$i" | grep -q '^Status: Started' &&
      [ "$(echo "$i" | sed -n 's/^Number of Bricks: [0-9]* x \(.*\) = .*/\1/p')" = "${local.set_shown}" ] &&
      [ ! -e ${local.rebalance_marker} ] &&
      [ "$(echo "$i" | sed -n 's/^Brick[0-9]*: //p' | sort)" = "$(printf '%s\n' ${local.bricks} | sort)" ]
  EOT
  retries = 2
  destroy = <<-EOT
    if gluster volume info ${var.volume_name} >/dev/null 2>&1; then
      gluster --mode=script volume stop ${var.volume_name} force || true
      gluster --mode=script volume delete ${var.volume_name}
    fi
  EOT
}

step "client_packages" {
  on    = hosts.client
  after = [module.package_repository]
  # The FUSE client (mount.glusterfs) is glusterfs-client on Debian and
  # Ubuntu, glusterfs-fuse on the RHEL family (host.facts.os.family says
  # which, from the client's /etc/os-release).
  package = host.facts.os.family == "rhel" ? ["glusterfs-fuse"] : ["glusterfs-client"]
}

step "mount" {
  on    = hosts.client
  after = [step.volume, step.client_packages]
  mount {
    source = "${hosts.server[0].private_ip}:/${var.volume_name}"
    target = var.mount_point
    fstype = "glusterfs"
    # The first server only hands out the volume layout (the volfile): the
    # client then talks to every brick itself, and fetches the layout from
    # one of up to three backup servers when the first is down. The same
    # for every client, so it is evaluated once, not per client.
    # _netdev: mount at boot once the network is up.
    options = join(",", concat(["_netdev"], var.servers < 2 ? [] :
    ["backup-volfile-servers=${join(":", slice(local.server_ips, 1, min(var.servers, 4)))}"]))
    fstab = true
  }
}

verify "roundtrip" {
  enabled = var.clients > 0 # clients = 0: nothing mounts the filesystem to check
  on      = hosts.client
  path    = var.mount_point
  # With redundancy, stop one server's glusterd and its brick process, read
  # again, start again and wait until the brick is back online. Debian's
  # glusterd.service (KillMode=control-group) kills the bricks with glusterd;
  # upstream's unit (KillMode=process) leaves them serving: pkill covers both.
  # A distributed volume (replica 1, no disperse) has no second copy, and
  # even stopping glusterd alone stops its bricks here: nothing is stopped.
  failover {
    # Distributed (no copies): no server to stop, no failover.
    on    = slice([local.failover_server], 0, local.redundant ? 1 : 0)
    stop  = local.redundant ? local.stop_server : "echo 'distributed layout (replica 1, no disperse): no second copy, nothing stopped'"
    start = local.redundant ? local.start_server : "true"
  }
}

output "mount" {
  value = "${hosts.server[0].private_ip}:/${var.volume_name}"
}

output "volume_info" {
  value = "ssh to ${hosts.server[0].private_ip} and run: gluster volume info ${var.volume_name}; gluster volume status ${var.volume_name}"
}

# ---------------------------------------------------------------- gateways
# NFS and SMB gateways (off by default): builtin/gateways puts NFS-Ganesha
# and Samba with CTDB on `gateway` hosts, reaching the volume through
# libgfapi; gateway clients mount through them with GVfs (no kernel NFS or
# CIFS client), and the module's verify blocks check them, failover
# included. See docs/gateways.md.

variable "nfs_gateways" {
  type        = number
  default     = 0
  description = "Number of gateway hosts serving the volume over NFS (NFS-Ganesha, FSAL_GLUSTER). 2 or more: verify writes through one, reads through another, and reads again with the first stopped."
  min         = 0
  integer     = true
}

variable "smb_gateways" {
  type        = number
  default     = 0
  description = "Number of gateway hosts serving the volume over SMB (Samba, vfs_glusterfs), clustered with CTDB. They are the first hosts of the same gateway group as the NFS gateways."
  min         = 0
  integer     = true
}

variable "gateway_clients" {
  type        = number
  default     = 2
  description = "Client hosts that mount through the gateways (when there are any): client i goes through gateway i mod N, NFS at /mnt/nfs-gateway, SMB at /mnt/smb-gateway."
  min         = 0
  integer     = true
}

variable "gateway_public_addresses" {
  type        = list(string)
  default     = []
  description = "CTDB floating addresses for the SMB gateways, \"ADDRESS/PREFIX INTERFACE\" each. Needs CAP_NET_ADMIN on the gateways (not on the docker provider)."
}

hosts "gateway" {
  count = max(var.nfs_gateways, var.smb_gateways)
}

hosts "gateway_client" {
  count = max(var.nfs_gateways, var.smb_gateways) > 0 ? var.gateway_clients : 0
}

module "gateways" {
  source           = "builtin/gateways"
  after            = [step.volume, module.package_repository]
  gateways         = hosts.gateway
  clients          = hosts.gateway_client
  nfs              = var.nfs_gateways
  smb              = var.smb_gateways
  backend          = "gluster"
  volume           = var.volume_name
  servers          = local.server_ips
  public_addresses = var.gateway_public_addresses
}

output "nfs_gateways" {
  description = "What NFS clients mount, one per NFS gateway (NFSv3 and NFSv4)."
  value       = module.gateways.nfs
}

output "smb_gateways" {
  description = "The SMB share, one address per SMB gateway."
  value       = module.gateways.smb
}

# ---------------------------------------------------------------------------
# Replacing a server (diffuser apply -replace 'server[1]', or an apply after
# the machine is gone): the new machine comes up with the old address
# (docker keeps it in state; static hosts are the same address by nature),
# but with a new, empty glusterd that the pool does not know, and an empty
# brick. GlusterFS's own procedure for "a host replaced under the same name"
# (gluster.org admin guide, Red Hat's "Replacing a host machine with the
# same hostname"): take over the old machine's UUID and peer list, let the
# pool hand the volume definitions over, give the empty brick the volume's
# id, start it and heal it from the other copies.

locals {
  # Heal info lists, per brick, the entries still to be healed.
  heal_pending = "gluster volume heal ${var.volume_name} info 2>/dev/null | awk '/^Number of entries:/ && $4 != \"0\" {n++} /^Status: / && $2 != \"Connected\" {n++} END {exit n ? 0 : 1}'"
}

step "brick_rejoin" {
  on            = hosts.server
  after         = [step.glusterd]
  when_replaced = hosts.server
  description   = "a replaced server takes the old one's place in the pool and its brick is healed"
  timeout       = "30m"
  # A live server given to -replace is drained on its old machine first
  # (engine: drain). With copies: wait until nothing is pending heal, so
  # the other bricks of its set hold everything it holds, then stop its
  # glusterd and bricks so clients turn to the others before the machine
  # goes. Distributed (no copies): move its files to the other bricks
  # (remove-brick start, wait until completed, commit); brick_rejoin adds
  # the new, empty brick back and rebalances.
  drain = <<-EOT
    set -e
    V=${var.volume_name}
    B=${host.private_ip}:${local.brick_dir}
    if ! gluster volume info $V 2>/dev/null | sed -n 's/^Brick[0-9]*: //p' | grep -qxF "$B"; then
      echo "$B is not in volume $V: nothing to drain"
      exit 0
    fi
    %{if local.redundant}
    for i in $(seq 1 1500); do
      ${local.heal_pending} || break
      [ $((i % 60)) = 1 ] && gluster volume heal $V info summary 2>/dev/null | grep -E '^(Brick|Total Number of entries:)' || true
      sleep 1
    done
    if ${local.heal_pending}; then
      echo "heal of $V has not finished after 25 minutes: $B may hold the only good copy of some files; not draining" >&2
      gluster volume heal $V info summary >&2
      exit 1
    fi
    echo "nothing pending heal in $V: the other bricks of its set hold everything $B holds"
    ${local.stop_bricks}
    echo "glusterd and the brick of $B stopped; clients use the other bricks"
    %{else}
    %{if var.servers < 2}
    echo "$B is the only brick of $V: there is no other brick to move its files to; copy them off by hand, or stop the machine to replace it as a dead one" >&2
    exit 1
    %{endif}
    status() { gluster volume remove-brick $V $B status 2>&1 || true; }
    # Started already by an earlier attempt: wait for that one.
    case "$(status)" in
      *"in progress"* | *completed*) ;;
      *) gluster --mode=script volume remove-brick $V $B start ;;
    esac
    for i in $(seq 1 1500); do
      out=$(status)
      if echo "$out" | grep -qE '[[:space:]](failed|stopped)[[:space:]]'; then
        echo "$out" >&2
        echo "moving the files off $B failed; see the glusterd log on the servers" >&2
        exit 1
      fi
      echo "$out" | grep -q 'in progress' || ! echo "$out" | grep -q completed || break
      sleep 1
    done
    echo "$out"
    if echo "$out" | grep -q 'in progress' || ! echo "$out" | grep -q completed; then
      echo "moving the files off $B has not finished after 25 minutes" >&2
      exit 1
    fi
    gluster --mode=script volume remove-brick $V $B commit
    echo "the files of $B moved to the other bricks; it left $V"
    %{endif}
  EOT
  run   = <<-EOT
    set -e
    V=${var.volume_name}
    ME=${host.private_ip}
    # The other servers (one list for every instance, filtered here: a
    # list made per instance would cost servers² to plan).
    PEERS=$(for p in ${local.server_list}; do [ "$p" = "$ME" ] || printf '%s ' "$p"; done)
    if [ -z "$PEERS" ]; then
      echo "the only server: the volume is made anew on it; the data of a one-server volume went with the old machine"
      exit 0
    fi
    # The brick filesystem is mounted by the brick steps (after packages);
    # wait for it rather than naming them.
    for i in $(seq 1 300); do mountpoint -q /data/brick && break; sleep 1; done
    mountpoint -q /data/brick || { echo "/data/brick is not mounted" >&2; exit 1; }
    # A surviving pool member says which UUID the pool knows this address
    # by (gluster's read-only commands answer a remote CLI).
    list=""
    for p in $PEERS; do
      list=$(gluster --remote-host=$p pool list 2>/dev/null) && [ -n "$list" ] && { SEED=$p; break; }
    done
    [ -n "$list" ] || { echo "no surviving server answered 'gluster pool list' (tried: $PEERS)" >&2; exit 1; }
    old=$(echo "$list" | awk -v me="$ME" '$2 == me {print $1}')
    if [ -z "$old" ]; then
      echo "the pool ($SEED) does not know $ME: nothing to take over" >&2
      echo "$list" >&2
      exit 1
    fi
    # glusterd writes glusterd.info only once it needs its UUID.
    mine=$(sed -n 's/^UUID=//p' /var/lib/glusterd/glusterd.info 2>/dev/null || true)
    if [ "$mine" != "$old" ]; then
      op=$(gluster volume get all cluster.op-version 2>/dev/null | awk '$1 == "cluster.op-version" {print $2}' || true)
      systemctl stop glusterd
      { echo "UUID=$old"; [ -z "$op" ] || echo "operating-version=$op"; } > /var/lib/glusterd/glusterd.info
      rm -f /var/lib/glusterd/peers/*
      echo "$list" | awk 'NR > 1 {print $1, $2}' | while read -r uuid name; do
        [ "$uuid" = "$old" ] && continue
        [ "$name" = localhost ] && name=$SEED
        printf 'uuid=%s\nstate=3\nhostname1=%s\n' "$uuid" "$name" > /var/lib/glusterd/peers/$uuid
      done
      systemctl start glusterd
    fi
    # The pool hands the volume definition over once the peers reconnect.
    for i in $(seq 1 120); do gluster volume info $V >/dev/null 2>&1 && break; sleep 1; done
    id=$(gluster volume info $V | sed -n 's/^Volume ID: //p' | tr -d '-')
    [ -n "$id" ] || { echo "volume $V did not reach this server" >&2; gluster peer status >&2; exit 1; }
    %{if local.redundant}
    # The new brick must be down while the volume's root is touched through
    # a client: the other bricks then record that it owes everything
    # (AFR's pending marks), and the heal copies the whole tree. Granular
    # entry heal would heal only the names it indexed: off meanwhile.
    pkill -x glusterfsd || true
    G=0
    gluster --mode=script volume heal $V granular-entry-heal disable >/dev/null 2>&1 && G=1
    M=$(mktemp -d)
    mount -t glusterfs 127.0.0.1:/$V $M
    mkdir $M/.diffuser-rejoin-$$ && rmdir $M/.diffuser-rejoin-$$
    setfattr -n trusted.diffuser-rejoin -v 1 $M && setfattr -x trusted.diffuser-rejoin $M
    umount $M && rmdir $M
    %{endif}
    %{if !local.redundant}
    # Drained before it was replaced (remove-brick committed: its files
    # were moved to the other bricks): the brick is added back and the
    # volume rebalanced onto it.
    if ! gluster volume info $V | sed -n 's/^Brick[0-9]*: //p' | grep -qxF "$ME:${local.brick_dir}"; then
      mkdir -p ${local.brick_dir}
      gluster --mode=script volume add-brick $V $ME:${local.brick_dir} force
      gluster --mode=script volume rebalance $V start
      echo "brick $ME:${local.brick_dir} added back to $V; rebalance started"
      exit 0
    fi
    %{endif}
    # An empty brick joins once it carries the volume's id and the
    # .glusterfs directory GlusterFS keeps its index in.
    mkdir -p ${local.brick_dir}/.glusterfs
    chmod 0600 ${local.brick_dir}/.glusterfs
    getfattr -n trusted.glusterfs.volume-id ${local.brick_dir} >/dev/null 2>&1 ||
      setfattr -n trusted.glusterfs.volume-id -v 0x$id ${local.brick_dir}
    gluster --mode=script volume start $V force
    for i in $(seq 1 60); do
      gluster volume status $V $ME:${local.brick_dir} detail 2>/dev/null | grep -q '^Online.*: Y' && break
      sleep 1
    done
    gluster volume status $V $ME:${local.brick_dir} detail | grep -q '^Online.*: Y' ||
      { echo "brick $ME:${local.brick_dir} did not come online" >&2; gluster volume status $V >&2; exit 1; }
    %{if local.redundant}
    # Heal from the other members of its replica or disperse set; done when
    # heal info lists nothing and granular entry heal can be turned back on
    # (GlusterFS refuses that while heals are pending).
    gluster --mode=script volume heal $V || true
    gluster --mode=script volume heal $V full || true
    for i in $(seq 1 1500); do
      if ! ${local.heal_pending} && { [ "$${G:-0}" = 0 ] || gluster --mode=script volume heal $V granular-entry-heal enable >/dev/null 2>&1; }; then
        echo "heal of $V finished"
        exit 0
      fi
      sleep 1
    done
    echo "heal of $V has not finished after 25 minutes:" >&2
    gluster volume heal $V info summary >&2
    exit 1
    %{else}
    echo "distributed volume (no second copy): the files of the old brick are gone; the new brick takes new files"
    %{endif}
  EOT
}

# The brick at boot. In a container systemd's fstab generator ignores
# block-device lines ("Running in a container, ignoring fstab device
# entry"), so a docker server restarted came back without /data/brick and
# glusterd could not start its brick. This unit mounts it from the fstab
# line before local-fs.target (so before glusterd); on a VM the generator's
# own data-brick.mount has done it and the unit finds it mounted.
module "brick_at_boot" {
  source  = "builtin/systemd-unit"
  on      = hosts.server
  after   = [step.glusterd]
  name    = "diffuser-brick-mount"
  content = <<-EOT
    [Unit]
    Description=Mount /data/brick from /etc/fstab where the fstab generator does not (containers)
    DefaultDependencies=no
    After=local-fs-pre.target data-brick.mount
    Before=local-fs.target glusterd.service

    [Service]
    Type=oneshot
    RemainAfterExit=yes
    ExecStart=/bin/sh -c 'mountpoint -q /data/brick || ! grep -q "[[:space:]]/data/brick[[:space:]]" /etc/fstab || mount /data/brick'

    [Install]
    WantedBy=local-fs.target
  EOT
}
