# Site file for EC2 (or an EC2-compatible cloud). Credentials come from the
# SDK's default chain: environment, shared config and profiles, SSO, or an
# instance role.
default_provider = "aws"

provider "aws" {
  region        = "eu-west-1"
  image         = "debian-12" # or ubuntu-24.04, ubuntu-22.04, or an ami-... id
  instance_type = "t3.medium"
  ssh_cidr      = "198.51.100.7/32" # your address: SSH is opened only to it
  # endpoint    = "https://ec2.example.internal:8773/"  # Eucalyptus, OpenStack EC2 API
  # subnet_id   = "subnet-0123456789abcdef0"
  # key_name    = "my-existing-key"  # else diffuser generates one and imports it
  tags = { project = "fs-comparison" }

  # Per host group overrides.
  groups = {
    server = { instance_type = "m5.large" }
  }
}
