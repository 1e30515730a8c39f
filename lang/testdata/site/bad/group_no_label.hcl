provider "cloud" {
  region = "eu-west-1"
  hosts { # ERROR: Missing group for hosts
    disk_gb = 100
  }
}
