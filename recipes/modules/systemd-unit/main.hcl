module_info {
  description = "a systemd service unit file, daemon-reload, the service started and enabled (restarted when the file changes); destroy stops it and removes the file"
}

variable "name" {
  type        = string
  description = "the unit's name without .service, e.g. \"moosefs-master\""
  pattern     = "[A-Za-z0-9_][A-Za-z0-9_.@:-]*"
}

variable "content" {
  type        = string
  description = "the unit file ([Unit], [Service], [Install] sections)"
}

variable "state" {
  type        = string
  default     = "started"
  description = "started, stopped, restarted or reloaded"
  one_of      = ["started", "stopped", "restarted", "reloaded"]
}

variable "enabled" {
  type        = bool
  default     = true
  description = "start at boot"
}

# A new name moves the file, which replaces this step: the destroy command
# recorded for the old name runs first (the old unit stops, is disabled and
# its file goes), then the new file is written and step.service starts it.
step "unit" {
  file {
    path    = "/etc/systemd/system/${var.name}.service"
    content = var.content
    mode    = "0644"
  }
  destroy = "systemctl disable --now ${shellquote("${var.name}.service")} || true; rm -f ${shellquote("/etc/systemd/system/${var.name}.service")}; systemctl daemon-reload"
}

step "service" {
  # A changed unit file restarts a running service (after daemon-reload):
  # the new ExecStart, Environment, limits... take effect in this apply.
  restart_on = [step.unit]
  service {
    name          = var.name
    state         = var.state
    enabled       = var.enabled
    daemon_reload = true
  }
}

output "unit" {
  value       = "${var.name}.service"
  description = "the unit's full name"
}
