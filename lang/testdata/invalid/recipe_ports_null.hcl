recipe "t" {
  ports = ["22/tcp ssh", null] # ERROR: Invalid ports
}
