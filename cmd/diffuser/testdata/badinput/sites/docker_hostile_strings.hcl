# PROVIDER: docker
# Values that reach the node image's apt sources, its Dockerfile, the
# debootstrap command line and /etc/hosts: a newline there used to add an
# apt source or a Dockerfile RUN line, a leading dash a debootstrap option.
provider "docker" {
  mirror      = "http://deb.debian.org/debian\nTypes: deb\nURIs: http://evil.example" # ERROR: Invalid docker setting
  suite       = "--no-check-gpg"                                                  # ERROR: Invalid docker setting
  base_image  = "debian:bookworm\nRUN touch /pwned"                               # ERROR: Invalid docker setting
  extra_hosts = ["evil\n10.0.0.1 deb.debian.org:10.0.0.2"]                        # ERROR: Invalid docker setting
}
