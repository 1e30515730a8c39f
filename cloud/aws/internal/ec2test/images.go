package ec2test

// Official image owners, as the provider uses them.
const (
	DebianOwner    = "136693071363"
	CanonicalOwner = "099720109477"
)

// Image is a fake AMI.
type Image struct {
	ID, Name, OwnerID, Architecture string
	CreationDate                    string // RFC 3339, as EC2 answers
}

// DefaultImages returns the AMIs every server starts with: two Debian 12
// and two Ubuntu 24.04 builds (amd64, with different dates) and one Debian
// 12 arm64 build, under the distributions' official owner ids.
func DefaultImages() []Image {
	return []Image{
		{ID: "ami-0d12a00000000001", Name: "debian-12-amd64-20250101-1980", OwnerID: DebianOwner, Architecture: "x86_64", CreationDate: "2025-01-01T10:00:00.000Z"},
		{ID: "ami-0d12a00000000002", Name: "debian-12-amd64-20250601-2140", OwnerID: DebianOwner, Architecture: "x86_64", CreationDate: "2025-06-01T10:00:00.000Z"},
		{ID: "ami-0d12b00000000001", Name: "debian-12-arm64-20250601-2140", OwnerID: DebianOwner, Architecture: "arm64", CreationDate: "2025-06-01T10:00:00.000Z"},
		{ID: "ami-0d11a00000000001", Name: "debian-11-amd64-20250601-2140", OwnerID: DebianOwner, Architecture: "x86_64", CreationDate: "2025-06-01T10:00:00.000Z"},
		{ID: "ami-0c24a00000000001", Name: "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-20250115", OwnerID: CanonicalOwner, Architecture: "x86_64", CreationDate: "2025-01-15T10:00:00.000Z"},
		{ID: "ami-0c24a00000000002", Name: "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-20250610", OwnerID: CanonicalOwner, Architecture: "x86_64", CreationDate: "2025-06-10T10:00:00.000Z"},
		{ID: "ami-0c22a00000000001", Name: "ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-amd64-server-20250610", OwnerID: CanonicalOwner, Architecture: "x86_64", CreationDate: "2025-06-10T10:00:00.000Z"},
	}
}

// AddImage adds an AMI.
func (s *Server) AddImage(img Image) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := img
	s.images[img.ID] = &c
}

type xDescribeImages struct {
	Images []xImage `xml:"imagesSet>item"`
}

func (s *Server) describeImages(f form) (any, error) {
	owners, ids := f.list("Owner"), f.list("ImageId")
	for _, id := range ids {
		if _, ok := s.images[id]; !ok {
			return nil, notFound("InvalidAMIID.NotFound", "The image id '[%s]' does not exist", id)
		}
	}
	filters := f.filters()
	var out xDescribeImages
	for _, id := range sortedKeys(s.images) {
		img := s.images[id]
		if (len(ids) > 0 && !contains(ids, id)) || (len(owners) > 0 && !contains(owners, img.OwnerID)) {
			continue
		}
		ok, err := matchAll(filters, nil, func(name string) (string, bool) {
			switch name {
			case "name":
				return img.Name, true
			case "architecture":
				return img.Architecture, true
			case "state":
				return "available", true
			case "image-id":
				return img.ID, true
			}
			return "", false
		})
		if err != nil {
			return nil, err
		}
		if ok {
			out.Images = append(out.Images, xImage{img.ID, img.Name, img.OwnerID, "available", img.Architecture, img.CreationDate, "/dev/xvda", true})
		}
	}
	return out, nil
}

// InstanceType is what DescribeInstanceTypes reports about a type.
type InstanceType struct {
	Hypervisor string // "nitro", "xen", or "" for bare metal
	BareMetal  bool
	Archs      []string
}

// DefaultInstanceTypes returns the types the server knows, taken from EC2's
// own answers: t2 and m4 are Xen, the others Nitro, t4g is arm64.
func DefaultInstanceTypes() map[string]InstanceType {
	x86 := []string{"i386", "x86_64"}
	return map[string]InstanceType{
		"t2.micro":   {"xen", false, x86},
		"t2.medium":  {"xen", false, x86},
		"m4.large":   {"xen", false, []string{"x86_64"}},
		"t3.micro":   {"nitro", false, []string{"x86_64"}},
		"t3.medium":  {"nitro", false, []string{"x86_64"}},
		"m5.large":   {"nitro", false, []string{"x86_64"}},
		"c5.xlarge":  {"nitro", false, []string{"x86_64"}},
		"t4g.medium": {"nitro", false, []string{"arm64"}},
		"m5.metal":   {"", true, []string{"x86_64"}},
	}
}

type xDescribeInstanceTypes struct {
	Types []xInstanceType `xml:"instanceTypeSet>item"`
}

func (s *Server) describeInstanceTypes(f form) (any, error) {
	if s.opts.NoInstanceTypes {
		return nil, apiError{400, "InvalidAction", "The action DescribeInstanceTypes is not valid for this web service."}
	}
	var out xDescribeInstanceTypes
	for _, name := range f.list("InstanceType") {
		t, ok := s.types[name]
		if !ok {
			return nil, invalid("The following supplied instance types do not exist: [%s]", name)
		}
		out.Types = append(out.Types, xInstanceType{name, t.Hypervisor, t.BareMetal, t.Archs})
	}
	return out, nil
}

// Volume is a fake EBS volume.
type Volume struct {
	ID, Type            string
	SizeGB, IOPS        int
	State               string // in-use, available
	InstanceID, Device  string
	DeleteOnTermination bool
	Encrypted           bool // as RunInstances asked (Ebs.Encrypted)
	Tags                map[string]string
}

type xDescribeVolumes struct {
	Volumes []xVolume `xml:"volumeSet>item"`
}

func (s *Server) describeVolumes(f form) (any, error) {
	ids := f.list("VolumeId")
	for _, id := range ids {
		if _, ok := s.volumes[id]; !ok {
			return nil, notFound("InvalidVolume.NotFound", "The volume '%s' does not exist.", id)
		}
	}
	filters := f.filters()
	var out xDescribeVolumes
	for _, id := range sortedKeys(s.volumes) {
		v := s.volumes[id]
		if len(ids) > 0 && !contains(ids, id) {
			continue
		}
		ok, err := matchAll(filters, v.Tags, func(name string) (string, bool) {
			switch name {
			case "volume-id":
				return v.ID, true
			case "status":
				return v.State, true
			case "attachment.instance-id":
				return v.InstanceID, true
			}
			return "", false
		})
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		x := xVolume{VolumeID: v.ID, Size: v.SizeGB, VolumeType: v.Type, Iops: v.IOPS, Status: v.State, Tags: xTags(v.Tags)}
		if v.InstanceID != "" {
			x.Attachments = []xAttachment{{v.InstanceID, v.Device, "attached", v.DeleteOnTermination}}
		}
		out.Volumes = append(out.Volumes, x)
	}
	return out, nil
}

func (s *Server) deleteVolume(f form) (any, error) {
	id := f.get("VolumeId")
	v, ok := s.volumes[id]
	if !ok {
		return nil, notFound("InvalidVolume.NotFound", "The volume '%s' does not exist.", id)
	}
	if v.State == "in-use" {
		return nil, apiError{400, "VolumeInUse", "Volume " + id + " is currently attached to " + v.InstanceID}
	}
	delete(s.volumes, id)
	return xEmpty{}, nil
}

// Volumes returns a snapshot of every volume.
func (s *Server) Volumes() []Volume {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Volume
	for _, id := range sortedKeys(s.volumes) {
		v := *s.volumes[id]
		v.Tags = copyTags(v.Tags)
		out = append(out, v)
	}
	return out
}
