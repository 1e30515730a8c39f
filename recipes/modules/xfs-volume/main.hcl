module_info {
  description = "XFS on a block device (refusing one that already holds data), mounted at a directory and kept in /etc/fstab"
}

variable "device" {
  type        = string
  description = "the block device, e.g. host.volume.brick.device at the call"
  validation {
    condition     = can(regex("^/dev/", var.device))
    error_message = "device is a block device path such as \"/dev/xvdf\" (host.volume.NAME.device at the call)."
  }
}

variable "target" {
  type        = string
  description = "the absolute directory to mount on (made when missing)"
  pattern     = "(/[A-Za-z0-9._@:+-]+)+"
}

variable "label" {
  type        = string
  default     = null
  description = "the filesystem's label (XFS: at most 12 characters)"
}

variable "mkfs_options" {
  type        = list(string)
  default     = []
  description = "extra mkfs.xfs arguments, e.g. [\"-i\", \"size=512\"] for GlusterFS bricks"
}

variable "options" {
  type        = string
  default     = null
  description = "mount options, comma separated (null: the filesystem's defaults)"
}

variable "before_unmount" {
  type        = string
  default     = null
  description = "a shell command destroy runs before unmounting, e.g. to stop a daemon that holds the filesystem open"
}

# mkfs.xfs comes with xfsprogs (the same name on Debian and the RHEL
# family): the module installs it, so a call needs no step before it.
step "packages" {
  package = ["xfsprogs"]
}

step "format" {
  after = [step.packages]
  format {
    device  = var.device
    fstype  = "xfs"
    label   = var.label
    options = var.mkfs_options
  }
}

step "mount" {
  after = [step.format]
  mount {
    source  = var.device
    target  = var.target
    fstype  = "xfs"
    options = var.options
    fstab   = true
  }
  # The mount kind unmounts and removes the fstab line itself on destroy;
  # this runs first.
  destroy = var.before_unmount
}

output "target" {
  value       = var.target
  description = "where the filesystem is mounted"
}
