recipe "webdav" {
  description = "Apache2 mod_dav WebDAV share on an xfs volume per server, mounted with davfs2 (FUSE) on every client"
  ports       = ["22/tcp ssh", "80/tcp http webdav"]
}

variable "servers" {
  type        = number
  default     = 1
  min         = 1
  integer     = true
  description = "Apache WebDAV servers, each with its own xfs volume at /srv/dav. Clients mount server[0]."
}

variable "clients" {
  type        = number
  default     = 2
  min         = 0
  integer     = true
  description = "Hosts that mount the share with davfs2."
}

variable "dav_gb" {
  type        = number
  default     = 1
  min         = 1
  description = "Size of each server's /srv/dav volume."
}

variable "share" {
  type        = string
  default     = "share"
  format      = "identifier"
  description = "URL path of the share: http://SERVER/SHARE/"
}

variable "mount_point" {
  type        = string
  default     = "/mnt/dav"
  format      = "absolute_path"
  description = "Where clients mount the share."
}

variable "workers_per_core" {
  type        = number
  default     = 25
  min         = 25
  max         = 100
  integer     = true
  description = "Apache MaxRequestWorkers per CPU core of the server (mpm_event, a multiple of ThreadsPerChild 25)."
  validation {
    condition     = var.workers_per_core % 25 == 0
    error_message = "workers_per_core must be a multiple of 25 (mpm_event's ThreadsPerChild)."
  }
}

hosts "server" {
  count = var.servers
  volume "data" { size_gb = var.dav_gb }
}

hosts "client" {
  count = var.clients
}

# ---- servers ----

step "server_packages" {
  on      = hosts.server
  package = ["apache2"]
}

module "dav" {
  source = "builtin/xfs-volume"
  on     = hosts.server
  device = host.volume.data.device
  target = "/srv/dav"
  # apache writes into the volume; stop it so the unmount succeeds
  before_unmount = "systemctl stop apache2 || true"
}

step "dav_owner" {
  on     = hosts.server
  after  = [module.dav, step.server_packages]
  run    = "chown www-data:www-data /srv/dav"
  unless = "[ \"$(stat -c %U /srv/dav)\" = www-data ]"
}

step "dav_modules" {
  on      = hosts.server
  after   = [step.server_packages]
  run     = "a2enmod -q dav dav_fs"
  creates = "/etc/apache2/mods-enabled/dav_fs.load"
}

step "dav_conf" {
  on    = hosts.server
  after = [step.server_packages]
  file {
    path    = "/etc/apache2/conf-enabled/diffuser-webdav.conf"
    content = <<-EOT
      # Written by diffuser (recipe webdav). No authentication: a lab share.
      Alias /${var.share} /srv/dav
      <Directory /srv/dav>
        Dav On
        Options Indexes
        AllowOverride None
        Require all granted
      </Directory>
      # ${host.facts.cores} core(s) on ${host.name}
      <IfModule mpm_event_module>
        MaxRequestWorkers ${host.facts.cores * var.workers_per_core}
      </IfModule>
    EOT
  }
}

step "apache" {
  on         = hosts.server
  after      = [step.dav_owner]
  restart_on = [step.dav_conf, step.dav_modules]
  service {
    name    = "apache2"
    state   = "started"
    enabled = true
  }
}

step "http_ready" {
  on    = hosts.server
  after = [step.apache]
  wait {
    port = 80
  }
}

# ---- clients ----

module "client" {
  source      = "./modules/davclient"
  on          = hosts.client
  after       = [step.http_ready]
  url         = "http://${reach_ip(host, hosts.server[0])}/${var.share}/"
  mount_point = var.mount_point
  cache_mb    = max(16, floor(host.facts.memory_mb / 64))
}

verify "roundtrip" {
  on   = hosts.client
  path = var.mount_point
}

output "urls" {
  value       = [for s in hosts.server : "http://${s.private_ip}/${var.share}/"]
  description = "The share on each server"
}

output "mount_point" {
  value = module.client.mount_point
}
