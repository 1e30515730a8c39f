recipe "t" {
  ports = ["22/tcp ssh", "8873/tpc rsync drop box"] # ERROR: Invalid ports
}
