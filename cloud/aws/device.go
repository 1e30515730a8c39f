package aws

import (
	"fmt"
	"strings"
)

// maxVolumes is how many volumes fit in /dev/sdf ... /dev/sdp.
const maxVolumes = 11

// requestedDevice is the device name diffuser asks EC2 for volume i of a
// host group, in the order of its volume blocks: /dev/sdf, /dev/sdg, ...
func requestedDevice(i int) string { return fmt.Sprintf("/dev/sd%c", 'f'+i) }

// devicePath is the path under which a volume really appears on the
// instance, which is what steps must format and mount:
//
//   - Nitro instances (every current family, and bare metal) expose EBS
//     volumes as NVMe namespaces, /dev/nvme1n1, /dev/nvme2n1, ..., in an
//     order the requested name does not decide. udev on Debian and Ubuntu
//     images links each one by serial number, which is the volume id
//     without its dash: /dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_vol0123456789abcdef0.
//   - Xen instances (t2, m4, c4, r4, i3, ... see guessInstanceType) rename
//     /dev/sdX to /dev/xvdX.
func devicePath(nitro bool, requested, volumeID string) string {
	if nitro && volumeID != "" {
		return "/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_" + strings.ReplaceAll(volumeID, "-", "")
	}
	return "/dev/xvd" + strings.TrimPrefix(strings.TrimPrefix(requested, "/dev/sd"), "/dev/xvd")
}

// sameDevice reports whether EC2's device name is the one requested; EC2
// answers with the requested name, some compatible clouds with /dev/xvdX.
func sameDevice(reported, requested string) bool {
	suffix := strings.TrimPrefix(requested, "/dev/sd")
	return reported == requested || reported == "/dev/xvd"+suffix
}
