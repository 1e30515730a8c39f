package ec2test

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"net/http"
	"sort"
	"time"
)

// Namespace is the XML namespace of EC2 Query responses.
const Namespace = "http://ec2.amazonaws.com/doc/2016-11-15/"

// apiError is an EC2 error answer: HTTP status, error code and message.
type apiError struct {
	status  int
	code    string
	message string
}

func (e apiError) Error() string { return e.code + ": " + e.message }

func notFound(code, format string, args ...any) apiError {
	return apiError{400, code, fmt.Sprintf(format, args...)}
}

func invalid(format string, args ...any) apiError {
	return apiError{400, "InvalidParameterValue", fmt.Sprintf(format, args...)}
}

func writeError(w http.ResponseWriter, requestID string, e apiError) {
	var b bytes.Buffer
	b.WriteString(xml.Header)
	b.WriteString("<Response><Errors><Error><Code>")
	_ = xml.EscapeText(&b, []byte(e.code))
	b.WriteString("</Code><Message>")
	_ = xml.EscapeText(&b, []byte(e.message))
	b.WriteString("</Message></Error></Errors><RequestID>")
	_ = xml.EscapeText(&b, []byte(requestID))
	b.WriteString("</RequestID></Response>")
	w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
	w.WriteHeader(e.status)
	_, _ = w.Write(b.Bytes())
}

// writeResponse writes <ActionResponse xmlns=...><requestId/>fields of body</...>.
// body is a struct whose fields carry the response's element names.
func writeResponse(w http.ResponseWriter, action, requestID string, body any) error {
	inner, err := xml.Marshal(body)
	if err != nil {
		return fmt.Errorf("marshal %s response: %w", action, err)
	}
	// Drop body's own root element: its fields are the response's children.
	start := bytes.IndexByte(inner, '>') + 1
	end := bytes.LastIndex(inner, []byte("</"))
	if bytes.HasSuffix(inner, []byte("/>")) || end < start {
		inner, start, end = nil, 0, 0
	}
	var b bytes.Buffer
	b.WriteString(xml.Header)
	fmt.Fprintf(&b, "<%sResponse xmlns=%q><requestId>%s</requestId>", action, Namespace, requestID)
	b.Write(inner[start:end])
	fmt.Fprintf(&b, "</%sResponse>", action)
	w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
	_, err = w.Write(b.Bytes())
	return err
}

func timestamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

type xTag struct {
	Key   string `xml:"key"`
	Value string `xml:"value"`
}

func xTags(tags map[string]string) []xTag {
	out := make([]xTag, 0, len(tags))
	for k, v := range tags {
		out = append(out, xTag{k, v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

type xState struct {
	Code int    `xml:"code"`
	Name string `xml:"name"`
}

type xEBS struct {
	VolumeID            string `xml:"volumeId"`
	Status              string `xml:"status"`
	AttachTime          string `xml:"attachTime"`
	DeleteOnTermination bool   `xml:"deleteOnTermination"`
}

type xBlockDevice struct {
	DeviceName string `xml:"deviceName"`
	EBS        xEBS   `xml:"ebs"`
}

type xGroup struct {
	GroupID   string `xml:"groupId"`
	GroupName string `xml:"groupName"`
}

type xInstance struct {
	InstanceID     string         `xml:"instanceId"`
	ImageID        string         `xml:"imageId"`
	State          xState         `xml:"instanceState"`
	PrivateIP      string         `xml:"privateIpAddress,omitempty"`
	PublicIP       string         `xml:"ipAddress,omitempty"`
	KeyName        string         `xml:"keyName,omitempty"`
	AmiLaunchIndex int            `xml:"amiLaunchIndex"`
	InstanceType   string         `xml:"instanceType"`
	LaunchTime     string         `xml:"launchTime"`
	SubnetID       string         `xml:"subnetId,omitempty"`
	VpcID          string         `xml:"vpcId,omitempty"`
	ClientToken    string         `xml:"clientToken,omitempty"`
	Architecture   string         `xml:"architecture,omitempty"`
	RootDeviceName string         `xml:"rootDeviceName"`
	RootDeviceType string         `xml:"rootDeviceType"`
	BlockDevices   []xBlockDevice `xml:"blockDeviceMapping>item"`
	Groups         []xGroup       `xml:"groupSet>item"`
	Tags           []xTag         `xml:"tagSet>item"`
}

type xReservation struct {
	ReservationID string      `xml:"reservationId"`
	OwnerID       string      `xml:"ownerId"`
	Instances     []xInstance `xml:"instancesSet>item"`
}

type xStateChange struct {
	InstanceID    string `xml:"instanceId"`
	CurrentState  xState `xml:"currentState"`
	PreviousState xState `xml:"previousState"`
}

type xUserIDGroupPair struct {
	GroupID     string `xml:"groupId"`
	UserID      string `xml:"userId"`
	Description string `xml:"description,omitempty"`
}

type xIPRange struct {
	CidrIP      string `xml:"cidrIp"`
	Description string `xml:"description,omitempty"`
}

type xPermission struct {
	IPProtocol string             `xml:"ipProtocol"`
	FromPort   *int               `xml:"fromPort,omitempty"`
	ToPort     *int               `xml:"toPort,omitempty"`
	Groups     []xUserIDGroupPair `xml:"groups>item"`
	IPRanges   []xIPRange         `xml:"ipRanges>item"`
}

type xSecurityGroup struct {
	OwnerID     string        `xml:"ownerId"`
	GroupID     string        `xml:"groupId"`
	GroupName   string        `xml:"groupName"`
	Description string        `xml:"groupDescription"`
	VpcID       string        `xml:"vpcId"`
	Ingress     []xPermission `xml:"ipPermissions>item"`
	Tags        []xTag        `xml:"tagSet>item"`
}

type xKeyPair struct {
	KeyPairID   string `xml:"keyPairId"`
	KeyName     string `xml:"keyName"`
	Fingerprint string `xml:"keyFingerprint"`
	PublicKey   string `xml:"publicKey,omitempty"`
	Tags        []xTag `xml:"tagSet>item"`
}

type xImage struct {
	ImageID      string `xml:"imageId"`
	Name         string `xml:"name"`
	OwnerID      string `xml:"imageOwnerId"`
	State        string `xml:"imageState"`
	Architecture string `xml:"architecture"`
	CreationDate string `xml:"creationDate"`
	RootDevice   string `xml:"rootDeviceName"`
	IsPublic     bool   `xml:"isPublic"`
}

type xSubnet struct {
	SubnetID    string `xml:"subnetId"`
	VpcID       string `xml:"vpcId"`
	CidrBlock   string `xml:"cidrBlock"`
	State       string `xml:"state"`
	MapPublicIP bool   `xml:"mapPublicIpOnLaunch"`
}

type xInstanceType struct {
	InstanceType string   `xml:"instanceType"`
	Hypervisor   string   `xml:"hypervisor,omitempty"`
	BareMetal    bool     `xml:"bareMetal"`
	Archs        []string `xml:"processorInfo>supportedArchitectures>item"`
}

type xAttachment struct {
	InstanceID          string `xml:"instanceId"`
	Device              string `xml:"device"`
	Status              string `xml:"status"`
	DeleteOnTermination bool   `xml:"deleteOnTermination"`
}

type xVolume struct {
	VolumeID    string        `xml:"volumeId"`
	Size        int           `xml:"size"`
	VolumeType  string        `xml:"volumeType"`
	Iops        int           `xml:"iops,omitempty"`
	Status      string        `xml:"status"`
	Attachments []xAttachment `xml:"attachmentSet>item"`
	Tags        []xTag        `xml:"tagSet>item"`
}
