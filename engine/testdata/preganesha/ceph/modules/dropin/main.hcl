module_info {
  description = "a systemd drop-in (/etc/systemd/system/UNIT.service.d/diffuser.conf) for a unit the packages ship, with an explicit daemon-reload (recipe ceph)"
}

variable "unit" {
  type        = string
  description = "the unit without .service, e.g. \"ceph-osd@\" for the template of every ceph-osd@N"
  pattern     = "[A-Za-z0-9_][A-Za-z0-9_.@:-]*"
}

variable "content" {
  type        = string
  description = "the drop-in's text, ending in a newline; a line of its own reading UNIT is not allowed (it ends the here-document)"
  validation {
    condition     = can(regex("\n$", var.content)) && !can(regex("(?m)^UNIT$", var.content))
    error_message = "content must end in a newline and hold no line reading UNIT."
  }
}

variable "then" {
  type        = string
  default     = ""
  description = "a shell command run after the daemon-reload, e.g. a reset-failed; empty: none"
}

step "dropin" {
  # A run step, not a file step: systemd does not flag a new drop-in of an
  # already loaded unit as needing daemon-reload, so the reload is explicit.
  run = <<-EOT
    set -e
    mkdir -p /etc/systemd/system/${var.unit}.service.d
    cat > /etc/systemd/system/${var.unit}.service.d/diffuser.conf <<'UNIT'
    ${var.content}UNIT
    systemctl daemon-reload${var.then == "" ? "" : "\n${var.then}"}
  EOT
}
