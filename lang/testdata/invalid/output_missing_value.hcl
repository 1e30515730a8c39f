recipe "t" {}

output "mount" { # ERROR: Missing required argument
  description = "where to mount"
}
