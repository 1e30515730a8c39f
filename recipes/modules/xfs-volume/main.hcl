module_info {
  description = "XFS on a block device (refusing one that already holds data), mounted at a directory and kept in /etc/fstab"
}

variable "device" {
  type        = string
  description = "the block device, e.g. host.volume.brick.device at the call"
}

variable "target" {
  type        = string
  description = "the absolute directory to mount on (made when missing)"
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
  default     = "defaults"
  description = "mount options, comma separated"
}

step "format" {
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
}

output "target" {
  value       = var.target
  description = "where the filesystem is mounted"
}
