# PROVIDER: aws
provider "aws" {
  region   = "eu-west-1"
  ssh_cidr = "0.0.0.0/33" # ERROR: Invalid aws setting
}
