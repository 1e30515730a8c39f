recipe "t" {
  ports = [
    "80000/tcp http index", # ERROR: Invalid ports
  ]
}
