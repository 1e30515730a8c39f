package ec2test

import (
	"cmp"
	"encoding/base64"
	"fmt"
	"sort"
	"strings"
	"time"
)

// EC2 instance state names and codes.
const (
	Pending      = "pending"
	Running      = "running"
	ShuttingDown = "shutting-down"
	Terminated   = "terminated"
	Stopping     = "stopping"
	Stopped      = "stopped"
)

var stateCodes = map[string]int{Pending: 0, Running: 16, ShuttingDown: 32, Terminated: 48, Stopping: 64, Stopped: 80}

// Device is one EBS block-device mapping of an instance.
type Device struct {
	Name                string
	VolumeID            string
	DeleteOnTermination bool
}

// Instance is a fake instance. Snapshots returned by the server are copies.
type Instance struct {
	ID, ImageID, InstanceType, KeyName   string
	SubnetID, VpcID, PrivateIP, PublicIP string
	ClientToken, ReservationID           string
	LaunchIndex                          int
	State                                string
	Tags                                 map[string]string
	Groups                               []string // security group ids
	Devices                              []Device // root device first
	LaunchTime                           time.Time
	// HttpTokens is MetadataOptions.HttpTokens as RunInstances asked
	// ("required" = IMDSv2 only; EC2's default "optional" when unset).
	HttpTokens string
	// ShutdownBehavior is InstanceInitiatedShutdownBehavior as asked
	// ("stop", EC2's default, when unset); UserData the decoded user data.
	ShutdownBehavior string
	UserData         string

	changed time.Time // when the current state began
	seen    int       // describes answered in the current state
	dies    bool      // goes pending → terminated instead of running
}

func (in *Instance) setState(state string, now time.Time) {
	in.State, in.changed, in.seen = state, now, 0
}

func (in *Instance) alive() bool { return in.State != Terminated }

func (in *Instance) snapshot() Instance {
	c := *in
	c.Tags = copyTags(in.Tags)
	c.Groups = append([]string(nil), in.Groups...)
	c.Devices = append([]Device(nil), in.Devices...)
	return c
}

// visible is false while a new instance is still hidden by NotFoundFor.
func (s *Server) visible(in *Instance, now time.Time) bool {
	return now.Sub(in.LaunchTime) >= s.opts.NotFoundFor
}

// advance moves an instance out of a transitional state once it has been in
// it for PendingDelay and been described PendingDescribes times. Caller holds s.mu.
func (s *Server) advance(in *Instance, now time.Time) {
	switch in.State {
	case Pending, Stopping, ShuttingDown:
	default:
		return
	}
	if now.Sub(in.changed) < s.opts.PendingDelay || in.seen < s.opts.PendingDescribes {
		return
	}
	switch in.State {
	case Pending:
		if in.dies {
			s.terminate(in, now)
			return
		}
		in.setState(Running, now)
	case Stopping:
		in.setState(Stopped, now)
		in.PublicIP = ""
	case ShuttingDown:
		s.terminate(in, now)
	}
}

// terminate finishes a termination: delete-on-termination volumes go away,
// the others are detached. Caller holds s.mu.
func (s *Server) terminate(in *Instance, now time.Time) {
	in.setState(Terminated, now)
	in.PublicIP = ""
	for _, d := range in.Devices {
		v, ok := s.volumes[d.VolumeID]
		if !ok {
			continue
		}
		if d.DeleteOnTermination {
			delete(s.volumes, d.VolumeID)
			continue
		}
		v.State, v.InstanceID, v.Device = "available", "", ""
	}
}

func (s *Server) instanceByID(id string, now time.Time) (*Instance, error) {
	in, ok := s.instances[id]
	if !ok || !s.visible(in, now) {
		return nil, notFound("InvalidInstanceID.NotFound", "The instance ID '%s' does not exist", id)
	}
	return in, nil
}

func (s *Server) publicIP() string {
	s.seq++
	return fmt.Sprintf("%d.%d.%d.%d", cmp.Or(s.opts.PublicNet, 54), (s.seq>>16)&0xff, (s.seq>>8)&0xff, s.seq&0xff)
}

func (s *Server) runInstances(f form) (any, error) {
	now := time.Now()
	token := f.get("ClientToken")
	minCount, err := f.integer("MinCount", 0)
	if err != nil {
		return nil, err
	}
	maxCount, err := f.integer("MaxCount", 0)
	if err != nil {
		return nil, err
	}
	if minCount < 1 || maxCount < minCount {
		return nil, invalid("MinCount %d / MaxCount %d: need 1 <= MinCount <= MaxCount", minCount, maxCount)
	}
	params := strings.Join([]string{f.get("ImageId"), f.get("InstanceType"), f.get("MinCount"), f.get("MaxCount"), f.get("KeyName")}, "|")
	if token != "" {
		if rid, ok := s.reservations[token]; ok {
			if s.tokenParams[token] != params {
				return nil, apiError{400, "IdempotentParameterMismatch", "The client token " + token + " was used with different parameters"}
			}
			return s.reservation(rid, now), nil
		}
	}

	img, ok := s.images[f.get("ImageId")]
	if !ok {
		return nil, notFound("InvalidAMIID.NotFound", "The image id '[%s]' does not exist", f.get("ImageId"))
	}
	itype := f.get("InstanceType")
	if _, ok := s.types[itype]; !ok {
		return nil, invalid("Invalid value '%s' for InstanceType.", itype)
	}
	key := f.get("KeyName")
	if key != "" && s.keys[key] == nil {
		return nil, notFound("InvalidKeyPair.NotFound", "The key pair '%s' does not exist", key)
	}
	subnetID, groupIDs := f.get("SubnetId"), f.list("SecurityGroupId")
	associate, associateSet := false, false
	if nics := f.structs("NetworkInterface"); len(nics) > 0 {
		if len(groupIDs) > 0 || subnetID != "" {
			return nil, invalid("Network interfaces and an instance-level subnet ID or security groups may not be specified on the same request")
		}
		subnetID, groupIDs = nics[0].get("SubnetId"), nics[0].list("SecurityGroupId")
		associate, associateSet = nics[0].boolean("AssociatePublicIpAddress")
	}
	if subnetID == "" {
		subnetID = DefaultSubnet
	}
	subnet, ok := s.subnets[subnetID]
	if !ok {
		return nil, notFound("InvalidSubnetID.NotFound", "The subnet ID '%s' does not exist", subnetID)
	}
	for _, g := range groupIDs {
		sg, ok := s.groups[g]
		if !ok {
			return nil, notFound("InvalidGroup.NotFound", "The security group '%s' does not exist", g)
		}
		if sg.VpcID != subnet.VpcID {
			return nil, invalid("Security group %s and subnet %s belong to different networks.", g, subnetID)
		}
	}
	if !associateSet {
		associate = subnet.MapPublicIP
	}
	type bdm struct {
		name, vtype string
		size, iops  int
		dot, enc    bool
	}
	var bdms []bdm
	for _, m := range f.structs("BlockDeviceMapping") {
		size, err := m.integer("Ebs.VolumeSize", 8)
		if err != nil {
			return nil, err
		}
		iops, err := m.integer("Ebs.Iops", 0)
		if err != nil {
			return nil, err
		}
		vtype := m.get("Ebs.VolumeType")
		if vtype == "" {
			vtype = "gp2"
		}
		dot, _ := m.boolean("Ebs.DeleteOnTermination")
		if !strings.HasPrefix(m.get("DeviceName"), "/dev/") {
			return nil, invalid("Invalid device name %q", m.get("DeviceName"))
		}
		enc, _ := m.boolean("Ebs.Encrypted")
		bdms = append(bdms, bdm{m.get("DeviceName"), vtype, size, iops, dot, enc})
	}

	rid := s.newID("r")
	for i := range maxCount {
		in := &Instance{
			ID: s.newID("i"), ImageID: img.ID, InstanceType: itype, KeyName: key,
			SubnetID: subnetID, VpcID: subnet.VpcID, ClientToken: token, ReservationID: rid,
			LaunchIndex: i, Tags: f.tagSpecs("instance"), Groups: groupIDs, LaunchTime: now,
			HttpTokens:       f.get("MetadataOptions.HttpTokens"),
			ShutdownBehavior: cmp.Or(f.get("InstanceInitiatedShutdownBehavior"), "stop"),
			UserData:         decodeUserData(f.get("UserData")),
		}
		if in.HttpTokens == "" {
			in.HttpTokens = "optional"
		}
		in.setState(Pending, now)
		in.PrivateIP = fmt.Sprintf("172.31.%d.%d", (s.seq/250)%250, s.seq%250+4)
		if associate {
			in.PublicIP = s.publicIP()
		}
		if s.killNext > 0 {
			s.killNext--
			in.dies = true
		}
		root := &Volume{ID: s.newID("vol"), SizeGB: 8, Type: "gp3", State: "in-use", InstanceID: in.ID, Device: "/dev/xvda", DeleteOnTermination: true, Tags: map[string]string{}}
		s.volumes[root.ID] = root
		in.Devices = append(in.Devices, Device{Name: root.Device, VolumeID: root.ID, DeleteOnTermination: true})
		for _, m := range bdms {
			v := &Volume{ID: s.newID("vol"), SizeGB: m.size, Type: m.vtype, IOPS: m.iops, State: "in-use", InstanceID: in.ID, Device: m.name, DeleteOnTermination: m.dot, Encrypted: m.enc, Tags: f.tagSpecs("volume")}
			s.volumes[v.ID] = v
			in.Devices = append(in.Devices, Device{Name: m.name, VolumeID: v.ID, DeleteOnTermination: m.dot})
		}
		s.instances[in.ID] = in
		s.reservationOf[rid] = append(s.reservationOf[rid], in.ID)
	}
	if token != "" {
		s.reservations[token], s.tokenParams[token] = rid, params
	}
	return s.reservation(rid, now), nil
}

type xRunInstances struct {
	xReservation
}

func (s *Server) reservation(rid string, now time.Time) xRunInstances {
	r := xRunInstances{xReservation{ReservationID: rid, OwnerID: AccountID}}
	for _, id := range s.reservationOf[rid] {
		r.Instances = append(r.Instances, s.xInstance(s.instances[id]))
	}
	return r
}

func (s *Server) xInstance(in *Instance) xInstance {
	x := xInstance{
		InstanceID: in.ID, ImageID: in.ImageID, State: xState{stateCodes[in.State], in.State},
		PrivateIP: in.PrivateIP, PublicIP: in.PublicIP, KeyName: in.KeyName, AmiLaunchIndex: in.LaunchIndex,
		InstanceType: in.InstanceType, LaunchTime: timestamp(in.LaunchTime), SubnetID: in.SubnetID, VpcID: in.VpcID,
		ClientToken: in.ClientToken, RootDeviceName: "/dev/xvda", RootDeviceType: "ebs", Tags: xTags(in.Tags),
	}
	if in.State == Terminated {
		x.PrivateIP = ""
	}
	if img, ok := s.images[in.ImageID]; ok {
		x.Architecture = img.Architecture
	}
	for _, d := range in.Devices {
		if in.State == Terminated {
			break
		}
		x.BlockDevices = append(x.BlockDevices, xBlockDevice{d.Name, xEBS{d.VolumeID, "attached", timestamp(in.LaunchTime), d.DeleteOnTermination}})
	}
	for _, g := range in.Groups {
		name := ""
		if sg, ok := s.groups[g]; ok {
			name = sg.Name
		}
		x.Groups = append(x.Groups, xGroup{g, name})
	}
	return x
}

type xDescribeInstances struct {
	Reservations []xReservation `xml:"reservationSet>item"`
}

func (s *Server) describeInstances(f form) (any, error) {
	now := time.Now()
	ids := f.list("InstanceId")
	for _, id := range ids {
		if _, err := s.instanceByID(id, now); err != nil {
			return nil, err
		}
	}
	filters := f.filters()
	byReservation := map[string][]*Instance{}
	for _, id := range sortedKeys(s.instances) {
		in := s.instances[id]
		if !s.visible(in, now) || (len(ids) > 0 && !contains(ids, id)) {
			continue
		}
		s.advance(in, now)
		ok, err := matchAll(filters, in.Tags, func(name string) (string, bool) {
			switch name {
			case "instance-state-name":
				return in.State, true
			case "instance-id":
				return in.ID, true
			case "client-token":
				return in.ClientToken, true
			case "vpc-id":
				return in.VpcID, true
			}
			return "", false
		})
		if err != nil {
			return nil, err
		}
		if ok {
			in.seen++
			byReservation[in.ReservationID] = append(byReservation[in.ReservationID], in)
		}
	}
	var out xDescribeInstances
	for _, rid := range sortedKeys(byReservation) {
		r := xReservation{ReservationID: rid, OwnerID: AccountID}
		list := byReservation[rid]
		sort.Slice(list, func(i, j int) bool { return list[i].LaunchIndex < list[j].LaunchIndex })
		for _, in := range list {
			r.Instances = append(r.Instances, s.xInstance(in))
		}
		out.Reservations = append(out.Reservations, r)
	}
	return out, nil
}

func (s *Server) createTags(f form) (any, error) {
	now := time.Now()
	ids, tags := f.list("ResourceId"), f.tags("Tag")
	if len(ids) == 0 || len(tags) == 0 {
		return nil, apiError{400, "MissingParameter", "CreateTags needs ResourceId and Tag"}
	}
	var targets []map[string]string
	for _, id := range ids {
		switch {
		case strings.HasPrefix(id, "i-"):
			in, err := s.instanceByID(id, now)
			if err != nil {
				return nil, err
			}
			targets = append(targets, in.Tags)
		case strings.HasPrefix(id, "vol-"):
			v, ok := s.volumes[id]
			if !ok {
				return nil, notFound("InvalidVolume.NotFound", "The volume '%s' does not exist.", id)
			}
			targets = append(targets, v.Tags)
		case strings.HasPrefix(id, "sg-"):
			g, ok := s.groups[id]
			if !ok {
				return nil, notFound("InvalidGroup.NotFound", "The security group '%s' does not exist", id)
			}
			targets = append(targets, g.Tags)
		default:
			return nil, invalid("Invalid id: %q", id)
		}
	}
	for _, t := range targets {
		for k, v := range tags {
			t[k] = v
		}
	}
	return xReturn{true}, nil
}

// modifyInstanceAttribute changes one instance's shutdown behaviour
// (InstanceInitiatedShutdownBehavior: stop or terminate), the attribute
// diffuser changes; any other attribute is refused.
func (s *Server) modifyInstanceAttribute(f form) (any, error) {
	in, err := s.instanceByID(f.get("InstanceId"), time.Now())
	if err != nil {
		return nil, err
	}
	v := f.get("InstanceInitiatedShutdownBehavior.Value")
	switch v {
	case "stop", "terminate":
		in.ShutdownBehavior = v
	case "":
		return nil, apiError{400, "InvalidParameterCombination", "ec2test: ModifyInstanceAttribute supports InstanceInitiatedShutdownBehavior only"}
	default:
		return nil, invalid("Value (%s) for parameter instanceInitiatedShutdownBehavior is invalid", v)
	}
	return xReturn{true}, nil
}

// deleteTags removes the tags named (by key; a value given must match,
// as EC2 does) from instances.
func (s *Server) deleteTags(f form) (any, error) {
	ids, tags := f.list("ResourceId"), f.structs("Tag")
	if len(ids) == 0 {
		return nil, apiError{400, "MissingParameter", "DeleteTags needs ResourceId"}
	}
	now := time.Now()
	for _, id := range ids {
		in, err := s.instanceByID(id, now)
		if err != nil {
			return nil, err
		}
		for _, t := range tags {
			if v, ok := in.Tags[t.get("Key")]; ok && (t.get("Value") == "" || t.get("Value") == v) {
				delete(in.Tags, t.get("Key"))
			}
		}
	}
	return xReturn{true}, nil
}

type xStateChanges struct {
	Instances []xStateChange `xml:"instancesSet>item"`
}

func (s *Server) terminateInstances(f form) (any, error) {
	return s.changeStates(f, func(in *Instance, now time.Time) error {
		switch in.State {
		case Terminated, ShuttingDown:
		default:
			in.setState(ShuttingDown, now)
		}
		return nil
	})
}

func (s *Server) startInstances(f form) (any, error) {
	return s.changeStates(f, func(in *Instance, now time.Time) error {
		switch in.State {
		case Pending, Running:
		case Stopped:
			in.setState(Pending, now)
			if sn := s.subnets[in.SubnetID]; sn != nil && sn.MapPublicIP {
				in.PublicIP = s.publicIP()
			}
		default:
			return apiError{400, "IncorrectInstanceState", fmt.Sprintf("The instance '%s' is not in a state from which it can be started.", in.ID)}
		}
		return nil
	})
}

// changeStates validates every id first, then applies change to each:
// EC2 fails the whole request when one id is unknown.
func (s *Server) changeStates(f form, change func(*Instance, time.Time) error) (any, error) {
	now := time.Now()
	ids := f.list("InstanceId")
	if len(ids) == 0 {
		return nil, apiError{400, "MissingParameter", "InstanceId is required"}
	}
	var list []*Instance
	for _, id := range ids {
		in, err := s.instanceByID(id, now)
		if err != nil {
			return nil, err
		}
		s.advance(in, now)
		list = append(list, in)
	}
	var out xStateChanges
	for _, in := range list {
		prev := in.State
		if err := change(in, now); err != nil {
			return nil, err
		}
		out.Instances = append(out.Instances, xStateChange{in.ID, xState{stateCodes[in.State], in.State}, xState{stateCodes[prev], prev}})
	}
	return out, nil
}

// Instances returns a snapshot of every instance, terminated ones included,
// ordered by id (that is, by launch order).
func (s *Server) Instances() []Instance {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Instance, 0, len(s.instances))
	for _, id := range sortedKeys(s.instances) {
		out = append(out, s.instances[id].snapshot())
	}
	return out
}

// Instance returns a snapshot of one instance.
func (s *Server) Instance(id string) (Instance, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	in, ok := s.instances[id]
	if !ok {
		return Instance{}, false
	}
	return in.snapshot(), true
}

// KillNext makes the next n launched instances die while pending: they go
// to terminated instead of running.
func (s *Server) KillNext(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.killNext += n
}

// Kill terminates an instance at once, as a hardware failure or another
// operator would.
func (s *Server) Kill(id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	in, ok := s.instances[id]
	if !ok {
		return fmt.Errorf("kill %s: no such instance", id)
	}
	s.terminate(in, time.Now())
	return nil
}

// Stop starts stopping an instance (stopping → stopped, public IP released).
func (s *Server) Stop(id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	in, ok := s.instances[id]
	if !ok || !in.alive() {
		return fmt.Errorf("stop %s: no such live instance", id)
	}
	in.setState(Stopping, time.Now())
	return nil
}

// SetDeleteOnTermination changes a volume attachment's flag, as
// ModifyInstanceAttribute would.
func (s *Server) SetDeleteOnTermination(volumeID string, dot bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.volumes[volumeID]
	if !ok {
		return fmt.Errorf("volume %s: not found", volumeID)
	}
	v.DeleteOnTermination = dot
	in := s.instances[v.InstanceID]
	if in == nil {
		return nil
	}
	for i := range in.Devices {
		if in.Devices[i].VolumeID == volumeID {
			in.Devices[i].DeleteOnTermination = dot
		}
	}
	return nil
}

// decodeUserData decodes RunInstances' base64 UserData ("" when absent or
// not base64, which EC2 would refuse anyway).
func decodeUserData(s string) string {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return ""
	}
	return string(b)
}
