# PROVIDER: aws
provider "aws" {
  region        = "eu-west-1"
  instance_type = 42 # ERROR: Invalid aws setting
}
