# PROVIDER: docker
provider "docker" {
  packages = ["jq", "$(reboot)"]                    # ERROR: Invalid docker setting
}
