recipe "t" {}

output "mount/path" { value = "/mnt" } # ERROR: Invalid output name
