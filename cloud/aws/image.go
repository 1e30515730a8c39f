package aws

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// Official AMI owners.
const (
	debianOwner    = "136693071363"
	canonicalOwner = "099720109477"
)

// alias is an image name diffuser resolves itself.
type alias struct {
	owner   string
	pattern string // name filter; %s is amd64 or arm64
	user    string // default SSH user of the distribution's cloud images
}

func imageAlias(name string) (alias, bool) {
	switch name {
	case "debian-12":
		return alias{debianOwner, "debian-12-%s-*", "admin"}, true
	case "debian-11":
		return alias{debianOwner, "debian-11-%s-*", "admin"}, true
	case "ubuntu-22.04":
		return alias{canonicalOwner, "ubuntu/images/hvm-ssd*/ubuntu-jammy-22.04-%s-server-*", "ubuntu"}, true
	case "ubuntu-24.04":
		return alias{canonicalOwner, "ubuntu/images/hvm-ssd*/ubuntu-noble-24.04-%s-server-*", "ubuntu"}, true
	}
	return alias{}, false
}

func imageAliasNames() []string {
	return []string{"debian-11", "debian-12", "ubuntu-22.04", "ubuntu-24.04"}
}

// image is a resolved AMI.
type image struct {
	id, name string
	user     string // default SSH user
}

// resolveImage turns the image setting into an AMI: an alias becomes the
// newest available image (by CreationDate) of the distribution's official
// owner matching the alias' name pattern for arch; an ami-... id is used
// as is and described only when needSSHUser asks for its default user.
func (p *Provider) resolveImage(ctx context.Context, name, arch string, needSSHUser bool) (image, error) {
	if strings.HasPrefix(name, "ami-") {
		if !needSSHUser {
			return image{id: name}, nil
		}
		return p.images.get(ctx, name, func(ctx context.Context) (image, error) {
			out, err := p.ec2.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{name}})
			if err != nil {
				return image{}, fmt.Errorf("describe image %s: %w", name, err)
			}
			if len(out.Images) == 0 {
				return image{}, fmt.Errorf("image %s not found in region %s", name, p.region)
			}
			n := aws.ToString(out.Images[0].Name)
			return image{id: name, name: n, user: userForImageName(n)}, nil
		})
	}
	a, ok := imageAlias(name)
	if !ok {
		return image{}, fmt.Errorf("image %q: want an AMI id or one of %s", name, strings.Join(imageAliasNames(), ", "))
	}
	return p.images.get(ctx, name+"/"+arch, func(ctx context.Context) (image, error) {
		ec2Arch := map[string]string{"amd64": "x86_64", "arm64": "arm64"}[arch]
		pattern := fmt.Sprintf(a.pattern, arch)
		out, err := p.ec2.DescribeImages(ctx, &ec2.DescribeImagesInput{
			Owners: []string{a.owner},
			Filters: []types.Filter{
				{Name: aws.String("name"), Values: []string{pattern}},
				{Name: aws.String("architecture"), Values: []string{ec2Arch}},
				{Name: aws.String("state"), Values: []string{"available"}},
			},
		})
		if err != nil {
			return image{}, fmt.Errorf("resolve image %s: %w", name, err)
		}
		img, ok := newestImage(out.Images)
		if !ok {
			return image{}, fmt.Errorf("image %s: no image named %q owned by %s in region %s", name, pattern, a.owner, p.region)
		}
		p.log("aws: image %s (%s) is %s %s", name, arch, aws.ToString(img.ImageId), aws.ToString(img.Name))
		return image{id: aws.ToString(img.ImageId), name: aws.ToString(img.Name), user: a.user}, nil
	})
}

// newestImage returns the image with the latest CreationDate (RFC 3339,
// so string order is time order); ties go to the larger name.
func newestImage(images []types.Image) (types.Image, bool) {
	if len(images) == 0 {
		return types.Image{}, false
	}
	sorted := append([]types.Image(nil), images...)
	sort.Slice(sorted, func(i, j int) bool {
		ci, cj := aws.ToString(sorted[i].CreationDate), aws.ToString(sorted[j].CreationDate)
		if ci != cj {
			return ci > cj
		}
		return aws.ToString(sorted[i].Name) > aws.ToString(sorted[j].Name)
	})
	return sorted[0], true
}

// userForImageName guesses the login user of an AMI from its name: admin
// for Debian, ubuntu for Ubuntu, ec2-user otherwise (Amazon Linux, RHEL
// family). ssh_user overrides it.
func userForImageName(name string) string {
	n := strings.ToLower(name)
	switch {
	case strings.Contains(n, "debian"):
		return "admin"
	case strings.Contains(n, "ubuntu"):
		return "ubuntu"
	}
	return "ec2-user"
}

// typeInfo is what the provider needs to know about an instance type.
type typeInfo struct {
	nitro bool   // EBS volumes appear as NVMe devices
	arch  string // amd64 or arm64
}

// instanceType describes an instance type, once per type: with
// DescribeInstanceTypes where the endpoint has it, else by family name.
func (p *Provider) instanceType(ctx context.Context, name string) (typeInfo, error) {
	return p.types.get(ctx, name, func(ctx context.Context) (typeInfo, error) {
		out, err := p.ec2.DescribeInstanceTypes(ctx, &ec2.DescribeInstanceTypesInput{InstanceTypes: []types.InstanceType{types.InstanceType(name)}})
		if err != nil {
			if errorCode(err) == "" || ctx.Err() != nil {
				return typeInfo{}, fmt.Errorf("describe instance type %s: %w", name, err)
			}
			guess := guessInstanceType(name)
			p.log("aws: DescribeInstanceTypes %s failed (%v); assuming nitro=%v arch=%s from the family name", name, err, guess.nitro, guess.arch)
			return guess, nil
		}
		if len(out.InstanceTypes) == 0 {
			return typeInfo{}, fmt.Errorf("instance type %s not offered in region %s", name, p.region)
		}
		it := out.InstanceTypes[0]
		info := typeInfo{nitro: it.Hypervisor == types.InstanceTypeHypervisorNitro || aws.ToBool(it.BareMetal), arch: "amd64"}
		if it.ProcessorInfo != nil {
			x86 := false
			for _, a := range it.ProcessorInfo.SupportedArchitectures {
				x86 = x86 || a == types.ArchitectureTypeX8664
			}
			if !x86 {
				info.arch = "arm64"
			}
		}
		return info, nil
	})
}

// guessInstanceType is the offline rule for endpoints without
// DescribeInstanceTypes: the families below run on Xen (EBS as /dev/xvdX),
// every newer one on Nitro (EBS as NVMe); a family with a "g" after its
// generation digit (t4g, m6gd, c7gn, im4gn) or a1 is Graviton, arm64.
func guessInstanceType(name string) typeInfo {
	family, _, _ := strings.Cut(name, ".")
	xen := map[string]bool{
		"t1": true, "t2": true, "m1": true, "m2": true, "m3": true, "m4": true, "c1": true, "c3": true, "c4": true,
		"r3": true, "r4": true, "x1": true, "x1e": true, "i2": true, "i3": true, "d2": true, "h1": true,
		"g2": true, "g3": true, "g3s": true, "p2": true, "p3": true, "f1": true, "cr1": true, "cc2": true, "hs1": true,
	}
	info := typeInfo{nitro: !xen[family], arch: "amd64"}
	if family == "a1" || regexp.MustCompile(`^[a-z]+[0-9]+g`).MatchString(family) {
		info.arch = "arm64"
	}
	return info
}
