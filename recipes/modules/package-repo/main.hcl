module_info {
  description = "a package repository and the OpenPGP key that signs it: on Debian and Ubuntu a deb822 file in /etc/apt/sources.list.d whose Signed-By names the key in /etc/apt/keyrings, then an apt-get update of that source alone (again whenever the key or the file change); on the RHEL family a /etc/yum.repos.d file with gpgcheck and the key in /etc/pki/rpm-gpg. Destroy removes those files"
}

# Every value below reaches the hosts as the content of a file, or as a
# token the patterns allow: nothing here becomes shell code.

variable "hosts" {
  type        = list(any)
  description = "the hosts that get the repository, e.g. concat(hosts.server, hosts.client); [] makes nothing"
}

variable "name" {
  type        = string
  description = "names the files (diffuser-NAME.sources, .asc, .repo) and the yum repository id: one per repository on a host"
  pattern     = "[a-z0-9][a-z0-9_-]{0,62}"
}

variable "uris" {
  type        = list(string)
  description = "where the repository is: http://, https:// or file:// URIs (apt: the URIs field; yum: baseurl)"
  pattern     = "(https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?|file://)(/[A-Za-z0-9._~%+@,=:-]*)*"
  validation {
    condition     = length(var.uris) > 0
    error_message = "uris lists at least one URI of the repository, such as \"https://download.gluster.org/pub/gluster/glusterfs/11/LATEST/Debian/bookworm/amd64/apt\"."
  }
}

variable "suites" {
  type        = list(string)
  description = "apt: the suites (\"bookworm\"), or one exact path ending in / (\"./\") for a flat repository; yum ignores it"
  pattern     = "[A-Za-z0-9._/][A-Za-z0-9._/-]*"
  validation {
    condition     = length(var.suites) > 0
    error_message = "suites lists at least one suite, such as [\"bookworm\"], or [\"./\"] for a flat repository."
  }
}

variable "components" {
  type        = list(string)
  default     = []
  description = "apt: the components (\"main\"); none ([]) exactly when the suite is an exact path ending in / (apt says so at the update otherwise); yum ignores it"
  pattern     = "[A-Za-z0-9][A-Za-z0-9._/-]*"
  validation {
    # apt refuses a source whose suite is an exact path and that names
    # components ("Malformed entry"), and only at the update, on the host.
    condition     = length(var.components) == 0 || length([for s in var.suites : s if trimsuffix(s, "/") != s]) == 0
    error_message = "components is [] with a flat repository: a suite that is an exact path ending in / (such as \"./\") takes no components; apt refuses a source that gives both."
  }
}

variable "architectures" {
  type        = list(string)
  default     = null
  description = "apt: the architectures to fetch (null: the host's own); yum ignores it"
  pattern     = "[a-z0-9][a-z0-9-]*"
}

variable "key" {
  type        = string
  description = "the repository's signing key: an ASCII-armored OpenPGP public key (gpg --armor --export), as the text of the key (file(\"repo.asc\") at the call)"
  validation {
    # One armored block of printable text (its headers may say anything),
    # and no private key anywhere in it.
    condition     = can(regex("^-----BEGIN PGP PUBLIC KEY BLOCK-----\\r?\\n[\\x20-\\x7e\\r\\n]+\\r?\\n-----END PGP PUBLIC KEY BLOCK-----$", trimspace(var.key))) && length(regexall("PRIVATE KEY", var.key)) == 0
    error_message = "key is the text of an ASCII-armored OpenPGP public key: from \"-----BEGIN PGP PUBLIC KEY BLOCK-----\" to \"-----END PGP PUBLIC KEY BLOCK-----\" (gpg --armor --export KEYID; not a private key, not a binary .gpg keyring: gpg --enarmor converts one)."
  }
}

locals {
  id = "diffuser-${var.name}"
  files = {
    debian = {
      key    = "/etc/apt/keyrings/${local.id}.asc"
      source = "/etc/apt/sources.list.d/${local.id}.sources"
      content = join("\n", concat(
        [
          "# Written by diffuser (module package-repo): repository ${var.name}.",
          "Types: deb",
          "URIs: ${join(" ", var.uris)}",
          "Suites: ${join(" ", var.suites)}",
        ],
        length(var.components) > 0 ? ["Components: ${join(" ", var.components)}"] : [],
        var.architectures != null ? ["Architectures: ${join(" ", var.architectures)}"] : [],
        ["Signed-By: /etc/apt/keyrings/${local.id}.asc", ""],
      ))
      # apt-get update of this source alone: no other source is fetched
      # (one that is down fails nothing here) and no other's lists are
      # dropped. --error-on=any (apt 2.1.16 and later: Debian 11, Ubuntu
      # 22.04) fails on what apt only warns about, such as an index that
      # could not be fetched; a signature that does not verify is an error
      # anyway. A repository whose Release lists no package index for
      # these suites and components is only a warning to apt: an error
      # here. (On a fresh host these may be the only package lists: a
      # package step whose install then misses a package or a dependency
      # updates every list and installs again.)
      #
      # apt-get update does not wait for the lists' lock (apt 2.6 exits 100
      # at once: "E: Could not get lock /var/lib/apt/lists/lock. It is held
      # by process N (NAME)"), which apt-daily and unattended-upgrades hold
      # on a freshly booted machine, as may an administrator's apt or
      # another diffuser's package step: it is tried again every 5 s for up
      # to 120 s, as package steps do (steps/aptlock.go), then the step
      # fails naming the lock and its holder. A refused update changes
      # nothing, so trying again is safe.
      refresh = <<-EOT
        set -e
        only="-o Dir::Etc::sourcelist=/etc/apt/sources.list.d/${local.id}.sources -o Dir::Etc::sourceparts=-"
        tries=0
        until out=$(apt-get -q --error-on=any $only -o APT::Get::List-Cleanup=0 update 2>&1); do
          printf '%s\n' "$out" >&2
          lock=$(printf '%s\n' "$out" | sed -n 's|^E: Could not get lock \(/[^ ]*[^. ]\).*|\1|p' | head -n 1)
          if [ -z "$lock" ]; then
            echo "diffuser: the package repository ${var.name} did not update (see apt's errors above): are its uris, suites and components right, and is its key the one that signs its Release file?" >&2
            exit 1
          fi
          if [ "$tries" -ge 24 ]; then
            pid=$(printf '%s\n' "$out" | sed -n 's|^E: Could not get lock .* It is held by process \([0-9][0-9]*\).*|\1|p' | head -n 1)
            holder="another process"
            if [ -n "$pid" ]; then
              holder="process $pid ($(ps -o args= -p "$pid" 2>/dev/null | head -n 1 | cut -c1-200))"
            fi
            echo "diffuser: apt-get update of the package repository ${var.name}: $lock is still held by $holder after 120 s of waiting: let it finish (apt-daily and unattended-upgrades run apt on a freshly booted machine) or stop it, then apply again" >&2
            exit 1
          fi
          tries=$((tries + 1))
          sleep 5
        done
        printf '%s\n' "$out"
        lists=$(apt-get $only indextargets --format '$(FILENAME)' 'Identifier: Packages')
        if [ -z "$lists" ]; then
          echo "diffuser: the package repository ${var.name} offers no package index for its suites, components and architectures (see apt's warnings above)" >&2
          exit 1
        fi
      EOT
      # apt drops the removed source's lists at the next full update: a
      # failing mirror of another source must not fail the destroy.
      forget = "apt-get -q update >/dev/null 2>&1 || echo 'diffuser: apt-get update failed after removing repository ${var.name}; its package lists go at the next successful update' >&2"
    }
    rhel = {
      key     = "/etc/pki/rpm-gpg/${local.id}"
      source  = "/etc/yum.repos.d/${local.id}.repo"
      content = <<-EOT
        # Written by diffuser (module package-repo): repository ${var.name}.
        [${local.id}]
        name=${local.id}
        baseurl=${join("\n        ", var.uris)}
        enabled=1
        gpgcheck=1
        gpgkey=file:///etc/pki/rpm-gpg/${local.id}
      EOT
      refresh = <<-EOT
        pm=dnf; command -v dnf >/dev/null 2>&1 || pm=yum
        $pm -q -y makecache --disablerepo='*' --enablerepo=${local.id} || {
          echo "diffuser: the package repository ${var.name} did not load (see the errors above): are its uris right?" >&2
          exit 1
        }
      EOT
      forget  = "true"
    }
  }
}

step "key" {
  on = var.hosts
  file {
    path    = local.files[host.facts.os.family == "rhel" ? "rhel" : "debian"].key
    content = "${trimspace(var.key)}\n"
    mode    = "0644"
  }
  destroy = "rm -f ${local.files[host.facts.os.family == "rhel" ? "rhel" : "debian"].key}"
}

step "source" {
  on    = var.hosts
  after = [step.key]
  file {
    path    = local.files[host.facts.os.family == "rhel" ? "rhel" : "debian"].source
    content = local.files[host.facts.os.family == "rhel" ? "rhel" : "debian"].content
    mode    = "0644"
  }
  destroy = "rm -f ${local.files[host.facts.os.family == "rhel" ? "rhel" : "debian"].source}; ${local.files[host.facts.os.family == "rhel" ? "rhel" : "debian"].forget}"
}

step "refresh" {
  on = var.hosts
  # Runs once when made, and again whenever the key or the source file
  # changed in an apply (restart_on on a run step): its own command never
  # changes with them.
  restart_on = [step.key, step.source]
  run        = local.files[host.facts.os.family == "rhel" ? "rhel" : "debian"].refresh
}

output "id" {
  value       = local.id
  description = "the files' stem and the yum repository id (dnf --enablerepo=ID); callers order their package steps with after = [module.CALL]"
}

output "files" {
  value       = { for family, f in local.files : family => { key = f.key, source = f.source } }
  description = "per family (debian, rhel): the key and source files each host of that family holds"
}
