provider "static" {
  addresses = ["10.0.0.1", "10.0.0.2"]
  volumes = {
    data = "/dev/sdb"
    logs = "sdc" # ERROR: Invalid device
  }
}
