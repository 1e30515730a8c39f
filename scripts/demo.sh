#!/usr/bin/env bash
# make demo: a real GlusterFS cluster (2 servers, replica 2, 1 client) in
# local containers, mounted and verified. make demo-destroy undoes it.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
bin=$root/bin/diffuser
dir=$root/.demo
mkdir -p "$dir"
cd "$dir"

if [ "${1:-}" = destroy ]; then
  if [ -d .diffuser/glusterfs ]; then
    "$bin" destroy glusterfs -auto-approve --progress plain
  fi
  cd "$root" && rm -rf "$dir"
  echo "demo: destroyed; nothing of it is left (containers, network, loop devices, volume files)."
  exit 0
fi

if [ ! -f diffuser.hcl ]; then
  cat > diffuser.hcl <<HCL
# Written by make demo. Containers reach the Debian mirror by the address
# this machine uses (scripts/mirror-hosts.sh).
default_provider = "docker"
provider "docker" {
  extra_hosts = [$("$root/scripts/mirror-hosts.sh")]
}
HCL
fi

start=$(date +%s)
"$bin" image build --site diffuser.hcl
t_image=$(date +%s)
"$bin" apply glusterfs -auto-approve --progress plain -var servers=2 -var replica=2 -var clients=1
t_apply=$(date +%s)
"$bin" verify glusterfs
t_verify=$(date +%s)
echo
echo "demo: GlusterFS volume $("$bin" output glusterfs mount) is mounted at /mnt/gluster on client[0]."
"$bin" hosts glusterfs
echo "demo: image $((t_image - start))s, apply $((t_apply - t_image))s, verify $((t_verify - t_apply))s, total $((t_verify - start))s."
echo "demo: look inside with: docker exec -it \$(docker ps -qf label=diffuser.name=client[0]) df -h /mnt/gluster"
echo "demo: remove it all with: make demo-destroy"
