# GROUP: server
provider "cloud" {
  region = "eu-west-1"
  hosts "server" {
    disk_gb = [100] # ERROR: Incorrect attribute value type
  }
}
