provider "cloud" {
  region   = "eu-west-1"
  instance = "t3.small" # ERROR: Unsupported argument
}
