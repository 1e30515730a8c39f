# A site file that loads: run history, provider settings with a per-group override,
# variable values, and a setting read from a file beside the site file.
default_provider = "cloud"
keep_runs        = 5

provider "cloud" {
  region        = "eu-west-1"
  instance_type = "t3.small"
  image         = trimspace(file("image.txt"))
  disk_gb       = 8

  hosts "server" {
    instance_type = "m5.large"
    disk_gb       = 100
  }
}

provider "static" {
  region = "lab"
}

variables {
  servers     = 4
  volume_name = "site"
}
