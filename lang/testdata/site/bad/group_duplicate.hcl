provider "cloud" {
  region = "eu-west-1"
  hosts "server" {
    disk_gb = 100
  }
  hosts "server" { # ERROR: Duplicate hosts block
    disk_gb = 200
  }
}
