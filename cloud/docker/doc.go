// Package docker is the `docker` host provider: hosts are containers on the
// local Docker Engine that behave like small VMs (systemd as PID 1, sshd,
// their own address on a per-cluster bridge network, volumes as loop devices
// passed in as block devices, FUSE), without --privileged: containers get
// CAP_SYS_ADMIN and CAP_DAC_READ_SEARCH (NFS-Ganesha), /dev/fuse, tmpfs /run and /run/lock, the host's cgroup tree
// read-write and the host cgroup namespace.
//
// It talks to the engine only through the Docker Go SDK
// (github.com/moby/moby/client, API version negotiated down to the daemon's),
// never through the docker CLI. Building the node image runs debootstrap,
// chroot and tar; loop devices are driven with ioctls. Both need root.
//
// # Identity and adoption
//
// Everything it creates carries the label diffuser.cluster=<cluster>; it only
// ever inspects, starts or removes objects carrying the cluster it was asked
// about. Names are deterministic: container diffuser-<cluster>-<group>-<index>
// (labels diffuser.cluster, .group, .index, .name), network
// diffuser-<cluster>, volume file <volume_dir>/<cluster>/<group>-<index>-<volume>.img.
// That is what makes Launch idempotent: a second Launch of the same identity
// adopts the container (starting it if stopped) and finds the volume file
// still bound to its loop device instead of binding it twice.
//
// # Node image
//
// EnsureImage builds diffuser-node:<suite>-<12 hex digits> when missing; the
// hex digits are the start of a SHA-256 over everything the build depends on
// (method, suite, mirrors, package list, the files under nodeimage/), so a
// changed input is a new tag and an unchanged one is never rebuilt. With
// build = "auto" the image is built FROM base_image (default debian:<suite>)
// when that is present locally, else with debootstrap from the machine's own
// Debian mirror and ImageImport. The image has no SSH host keys: each
// container makes its own ed25519 key at first boot. A build writes its
// programs' whole output to node-image.log in the work directory and tells
// a progress writer that is a BuildReporter only its phases (BuildSummary
// turns them into a few lines; the CLI draws a bar on a terminal).
//
// With the packages setting, hosts run an image derived from the node
// image with those packages installed (bake.go):
// diffuser-node:<suite>-pkgs-<12 hex digits> over the node image's ID, the
// sorted packages and the apt settings, built once with bake/bake.sh.
//
// # Settings
//
// The provider "docker" block (Factory.Spec; nothing is required):
//
//	image           use this image as is, build nothing
//	build           auto | debootstrap | dockerfile (default auto)
//	base_image      FROM of the Dockerfile build (default debian:<suite>)
//	mirror          Debian mirror (default: this machine's apt sources)
//	security_mirror Debian security mirror, or "none" (default: apt sources)
//	suite           Debian release (default: apt sources, else bookworm)
//	extra_hosts     ["name:ip", ...] added to /etc/hosts of hosts and builds
//	network_cidr    subnet of the cluster network (default: Docker picks)
//	memory          per-container memory limit, e.g. "2g" (default none)
//	cpus            per-container CPU limit, e.g. 1.5 (default none)
//	volume_dir      where volume files live (default <WorkDir>/volumes)
//	package_cache   controller | off | http://host:port (default controller:
//	                apt-cacher-ng on this machine at the network's gateway)
//	networks        existing networks containers also join (shared.go)
//
// A group may override image, build, base_image, mirror, suite, extra_hosts,
// memory, cpus and networks; network_cidr and volume_dir are cluster-wide.
//
// # Machine
//
// Root, a Docker Engine (API >= 1.40), /dev/loop-control and /dev/fuse,
// cgroup v1 (v2 is untested), and (installed on demand with apt-get)
// debootstrap, chroot and GNU tar for the image build. New
// raises fs.inotify.max_user_instances to 8192 when it is lower: every
// container's systemd needs several, all charged to the host's root.
//
// The package implements cloud.Provider and cloud.Factory. It must not import
// engine, lang or steps.
package docker
