recipe "t" {
  ports = [
    "22/tcp ssh",
    "111/tcp 111/udp portmapper", # ERROR: Invalid ports
    "2049/tcp+tcp nfs", # ERROR: Invalid ports
  ]
}
