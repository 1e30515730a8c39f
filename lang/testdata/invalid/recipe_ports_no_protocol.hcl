recipe "t" {
  ports = [
    "22/tcp ssh",
    "873 rsync", # ERROR: Invalid ports
  ]
}
