# PROVIDER: aws
provider "aws" {
  endpoint      = "ec2.example.org:8773" # ERROR: Invalid aws setting
  device_naming = "scsi"                 # ERROR: Invalid aws setting
}
