provider "cloud" {
  region  = "eu-west-1"
  disk_gb = "big" # ERROR: Incorrect attribute value type
}
