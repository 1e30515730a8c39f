module_info {
  description = "a MooseFS daemon (recipe moosefs): its mfsNAME.cfg, an optional second file, the moosefs-NAME service reloaded when either changes"
}

variable "hosts" {
  type        = list(any)
  description = "the hosts that run the daemon (hosts.master at the call)"
}

variable "name" {
  type        = string
  description = "master, metalogger or chunkserver: the file is /etc/mfs/mfsNAME.cfg, the service moosefs-NAME"
  one_of      = ["master", "metalogger", "chunkserver"]
}

variable "config" {
  type        = string
  description = "the content of /etc/mfs/mfsNAME.cfg"
}

variable "also" {
  type        = object({ path = string, content = string })
  default     = null
  description = "one more file the daemon re-reads on reload (mfsexports.cfg, mfshdd.cfg); null: none"
}

step "config" {
  on = var.hosts
  file {
    path    = "/etc/mfs/mfs${var.name}.cfg"
    content = var.config
  }
}

step "also" {
  # No instances without a second file; the path is then only a stand-in
  # that the recipe checks (it must be absolute) and nothing writes.
  on = var.also == null ? [] : var.hosts
  file {
    path    = try(var.also.path, "/etc/mfs/unused")
    content = try(var.also.content, "")
  }
}

step "service" {
  on = var.hosts
  # Every MooseFS daemon re-reads its files on reload (SIGHUP): a master
  # lets new clients mount, a chunkserver scans a new folder or reconnects
  # to a new master address, without a restart.
  reload_on = [step.config, step.also]
  service {
    name    = "moosefs-${var.name}"
    enabled = true
  }
}

output "service" {
  value       = "moosefs-${var.name}"
  description = "the systemd unit's name"
}
