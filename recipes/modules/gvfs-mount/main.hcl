module_info {
  description = "an NFS export (GVfs's NFS backend: libnfs, NFSv3) or an SMB share (GVfs's SMB backend: libsmbclient) seen through FUSE at a directory, with no kernel NFS or CIFS client: a systemd unit keeps it mounted"
}

variable "clients" {
  type        = any
  description = "the hosts that mount, e.g. hosts.client"
}

variable "name" {
  type        = string
  description = "names the unit (diffuser-gvfs-NAME.service) and its runtime directory: one per mount on a host"
  pattern     = "[a-z0-9][a-z0-9-]*"
}

variable "protocol" {
  type        = string
  description = "\"nfs\" (libnfs, NFSv3) or \"smb\" (libsmbclient, anonymous guest access)"
  one_of      = ["nfs", "smb"]
}

variable "server" {
  type        = string
  description = "the server's address; may differ per client host (read host at the call)"
  format      = "host"
}

variable "share" {
  type        = string
  description = "nfs: the export's absolute path (\"/share\"); smb: the share's name (\"gv0\")"
  pattern     = "/?[a-zA-Z0-9._-]+(/[a-zA-Z0-9._-]+)*"
}

variable "mount_point" {
  type        = string
  description = "where the clients see it: a symbolic link into the GVfs FUSE tree"
  format      = "absolute_path"
}

locals {
  runtime = "/run/diffuser-gvfs-${var.name}"
  unit    = "diffuser-gvfs-${var.name}"
  # GVfs and its FUSE bridge, gio to mount, a D-Bus session bus to run them
  # on, and the protocol's command-line tools (nfs-ls, nfs-cp, nfs-cat;
  # smbclient). By host.facts.os.family at the step: "rhel" (untested;
  # libnfs-utils comes from EPEL there), else Debian and Ubuntu.
  packages = {
    debian = ["gvfs-backends", "gvfs-fuse", "libglib2.0-bin", "dbus", var.protocol == "nfs" ? "libnfs-utils" : "smbclient"]
    rhel   = concat(["gvfs", "gvfs-fuse", "glib2", "dbus"], var.protocol == "nfs" ? ["gvfs-nfs", "libnfs-utils"] : ["gvfs-smb", "samba-client"])
  }

  # The server may differ per host: the unit passes it as an argument.
  script = <<-EOT
    #!/bin/sh
    # Written by diffuser (module gvfs-mount). Usage: ${local.unit} SERVER
    # Runs under dbus-run-session: GVfs lives on a D-Bus session bus. gvfsd
    # starts gvfsd-fuse, which shows every GVfs mount of the session under
    # $XDG_RUNTIME_DIR/gvfs; then the share is mounted and
    # ${var.mount_point} pointed at it.
    set -u
    server=$1
    %{~if var.protocol == "nfs"~}
    url="nfs://$server${var.share}"
    fuse="nfs:host=$server,prefix=$(printf '%s' ${shellquote(var.share)} | sed 's,/,%2F,g')"
    anon=""
    %{~else~}
    url="smb://$server/${var.share}"
    fuse="smb-share:server=$server,share=${lower(var.share)}"
    anon="--anonymous"
    %{~endif~}
    # The mount point is a link this script makes: an empty directory
    # there (left by a kernel mount, or made by hand) goes; anything else
    # stops it, rather than leave clients writing to the local disk. This
    # comes first, before GVfs starts: its refusal is then the last thing
    # the unit says, not followed by GVfs's own words as it stops.
    mp=${shellquote(var.mount_point)}
    if [ -d "$mp" ] && [ ! -L "$mp" ] && ! rmdir "$mp"; then
      echo "$mp is a directory with files in it, not this unit's link: move them away, then systemctl restart ${local.unit}" >&2
      exit 1
    fi
    export XDG_RUNTIME_DIR=${local.runtime}
    export GIO_USE_VOLUME_MONITOR=unix
    mkdir -p -m 0700 "$XDG_RUNTIME_DIR"
    /usr/libexec/gvfsd &
    gvfsd=$!
    for i in $(seq 1 30); do
      mountpoint -q "$XDG_RUNTIME_DIR/gvfs" && break
      sleep 1
    done
    # The server may still be starting: keep trying.
    until gio mount $anon "$url"; do
      kill -0 $gvfsd || exit 1
      sleep 2
    done
    ln -sfn "$XDG_RUNTIME_DIR/gvfs/$fuse" "$mp.diffuser-tmp" && mv -T "$mp.diffuser-tmp" "$mp" || exit 1
    wait $gvfsd
  EOT
}

step "packages" {
  on      = var.clients
  package = local.packages[host.facts.os.family == "rhel" ? "rhel" : "debian"]
}

step "script" {
  on    = var.clients
  after = [step.packages]
  file {
    path    = "/usr/local/sbin/${local.unit}"
    mode    = "0755"
    content = local.script
  }
  destroy = "rm -f /usr/local/sbin/${local.unit}"
}

step "unit" {
  on    = var.clients
  after = [step.packages]
  file {
    path    = "/etc/systemd/system/${local.unit}.service"
    content = <<-EOT
      # Written by diffuser (module gvfs-mount).
      [Unit]
      Description=${var.protocol} share ${var.share} of ${var.server} at ${var.mount_point} through GVfs and FUSE
      After=network-online.target
      Wants=network-online.target

      [Service]
      ExecStart=/usr/bin/dbus-run-session -- /usr/local/sbin/${local.unit} ${var.server}
      ExecStopPost=-/usr/bin/fusermount3 -u -z ${local.runtime}/gvfs
      Restart=on-failure
      RestartSec=3

      [Install]
      WantedBy=multi-user.target
    EOT
  }
  destroy = "rm -f /etc/systemd/system/${local.unit}.service; systemctl daemon-reload"
}

step "mount" {
  on = var.clients
  # Remounts when the script or the unit (which names the server) change.
  restart_on = [step.script, step.unit]
  service {
    name          = "${local.unit}.service"
    enabled       = true
    daemon_reload = true
  }
  destroy = "systemctl disable --now ${local.unit}.service; rm -f ${shellquote(var.mount_point)}"
}

step "ready" {
  on    = var.clients
  after = [step.mount]
  wait {
    # Through the link into the GVfs tree: a directory there is not the
    # share. While there is no link, what the unit's script said says why
    # (its own lines, not systemd's about it).
    command = <<-EOT
      if [ ! -L ${shellquote(var.mount_point)} ]; then
        echo ${shellquote("${var.mount_point} is not yet the link into GVfs; ${local.unit} says:")} >&2
        journalctl -u ${local.unit}.service _TRANSPORT=stdout -n 3 -o cat --no-pager >&2
        exit 1
      fi
      ls ${shellquote(var.mount_point)}/ >/dev/null
    EOT
    timeout = "180s"
  }
}

output "mount_point" {
  value       = var.mount_point
  description = "where the clients see the share"
}
