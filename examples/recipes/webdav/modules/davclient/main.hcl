module_info {
  description = "a WebDAV share mounted with davfs2 (FUSE), no authentication, uploads not delayed"
}

variable "url" {
  type        = string
  format      = "url"
  description = "the share's URL, e.g. http://10.0.0.2/share/"
}

variable "mount_point" {
  type        = string
  format      = "absolute_path"
  description = "where the share is mounted"
}

variable "cache_mb" {
  type        = number
  default     = 50
  min         = 1
  integer     = true
  description = "davfs2's local cache size in MiB"
}

step "packages" {
  package = ["davfs2"]
}

step "conf" {
  after = [step.packages]
  file {
    path    = "/etc/davfs2/davfs2.conf"
    content = <<-EOT
      # Written by diffuser (module davclient)
      use_locks    0
      delay_upload 0
      file_refresh 1
      dir_refresh  1
      cache_size   ${var.cache_mb}
    EOT
  }
}

# An anonymous share: davfs2 asks for a user name unless secrets has a line
# for the mount point.
step "secrets" {
  after = [step.packages]
  file {
    path    = "/etc/davfs2/secrets"
    mode    = "0600"
    content = "${var.mount_point} anonymous \"\"\n"
  }
}

# davfs2 shows its mount as type "fuse" with the URL as source: the mount
# kind takes a FUSE mount of the declared source for its own.
step "mount" {
  after = [step.conf, step.secrets]
  mount {
    source  = var.url
    target  = var.mount_point
    fstype  = "davfs"
    options = "_netdev"
    fstab   = true
  }
  retries = 2
}

output "mount_point" {
  value = var.mount_point
}
