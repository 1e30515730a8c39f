module_info {
  description = "OrangeFS built from a release tarball on each host it runs on (recipe orangefs): the build dependencies, then download, check, configure, make, make install"
}

variable "build" {
  type = object({
    source_url = string # the release tarball (http, https or ftp)
    sha256     = string # its SHA-256, or "" for no check
    cflags     = string
    fuse       = bool # also build pvfs2fuse (--enable-fuse)
    prefix     = string
  })
  description = "what to build and where to install it; the recipe validates each field"
}

locals {
  prefix = var.build.prefix
  configure_flags = join(" ", concat(
    ["--prefix=${local.prefix}", "--with-db-backend=lmdb", "--disable-usrint"],
    var.build.fuse ? ["--enable-fuse"] : [],
  ))
  # The build's identity: a new tarball or new flags build again.
  id     = substr(sha256("${var.build.source_url} ${var.build.sha256} ${local.configure_flags} ${var.build.cflags}"), 0, 16)
  marker = "${local.prefix}/.diffuser-build-${local.id}"

  # By host.facts.os.family: "rhel" (dnf), else Debian and Ubuntu (apt).
  packages = {
    debian = concat(
      ["build-essential", "automake", "bison", "flex", "perl", "libattr1-dev", "libssl-dev", "liblmdb-dev", "curl", "ca-certificates"],
      var.build.fuse ? ["libfuse-dev", "pkg-config"] : [],
    )
    rhel = concat(
      ["gcc", "make", "automake", "bison", "flex", "perl", "libattr-devel", "openssl-devel", "lmdb-devel", "curl", "ca-certificates"],
      var.build.fuse ? ["fuse-devel", "pkgconf-pkg-config"] : [],
    )
  }

  # Downloads, checks, configures, builds and installs; safe to run again
  # (each run starts from a fresh extract). The marker names the build.
  script = <<-EOT
    set -e
    src=/usr/local/src/orangefs
    tarball=/usr/local/src/orangefs-${local.id}.tar.gz
    mkdir -p /usr/local/src
    if [ ! -s "$tarball" ]; then
      curl -fsSL --retry 3 -o "$tarball.part" ${shellquote(var.build.source_url)}
      mv "$tarball.part" "$tarball"
    fi
    %{if var.build.sha256 != ""~}
    echo "${var.build.sha256}  $tarball" | sha256sum -c - || { rm -f "$tarball"; exit 1; }
    %{endif~}
    rm -rf "$src"
    mkdir -p "$src"
    # The tarball's top directory is orangefs-v.VERSION: strip it.
    tar -xzf "$tarball" -C "$src" --strip-components=1
    cd "$src"
    CFLAGS=${shellquote(var.build.cflags)} ./configure ${local.configure_flags}
    make -j"$(nproc)"
    make install
    touch ${local.marker}
  EOT
}

step "deps" {
  package = local.packages[host.facts.os.family == "rhel" ? "rhel" : "debian"]
}

step "build" {
  after   = [step.deps]
  run     = local.script
  creates = local.marker
  timeout = "60m"
  retries = 1
  destroy = "rm -rf ${local.prefix} /usr/local/src/orangefs /usr/local/src/orangefs-*.tar.gz"
}
