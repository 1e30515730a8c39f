# PROVIDER: aws
provider "aws" {
  region = "eu-west-1"
  groups = {
    server = {
      instance_type  = "m5 large"     # ERROR: Invalid aws setting
      use_private_ip = "yes please"   # ERROR: Invalid aws setting
    }
  }
  hosts "server" {
    image = "centos-7" # ERROR: Invalid aws setting
  }
}
