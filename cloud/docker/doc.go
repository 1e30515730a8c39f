// Package docker is the `docker` host provider: hosts are containers on the
// local Docker Engine that behave like small VMs (systemd as PID 1, sshd,
// their own address on a per-cluster bridge network, volumes as loop devices
// passed in as block devices, FUSE).
//
// It talks to the engine only through the Docker Go SDK
// (github.com/moby/moby/client, API version negotiated down to the daemon's),
// never through the docker CLI. It shells out to debootstrap and tar only when
// it builds the node image (see image.go), and needs root for that and for
// loop devices.
//
// Everything it creates carries the label diffuser.cluster=<cluster>; it only
// ever inspects, starts or removes objects carrying the cluster it was asked
// about. Names are deterministic (container diffuser-<cluster>-<group>-<index>,
// network diffuser-<cluster>, volume file <volume_dir>/<cluster>/<group>-<index>-<volume>.img),
// which is what makes Launch idempotent: a second Launch of the same identity
// adopts what the first one made.
//
// The package implements cloud.Provider and cloud.Factory. It must not import
// engine, lang or steps.
package docker
