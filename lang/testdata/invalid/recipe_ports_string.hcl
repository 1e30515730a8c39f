recipe "t" {
  ports = "24007/tcp" # ERROR: Invalid ports
}
