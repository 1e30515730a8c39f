package aws

import (
	"context"
	"encoding/base64"
	"fmt"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"diffuser/cloud"
)

// TagExpires is the tag holding a cluster's deadline (RFC 3339, UTC) on
// every instance launched for an apply given a ttl.
const TagExpires = "diffuser:expires"

var _ cloud.Expirer = (*Provider)(nil)

// Expire retags a running instance with the cluster's new deadline (or
// removes the tag), and sets what a shutdown from inside the instance
// does to go with it: terminate while the cluster has a deadline (the
// timer's poweroff ends the instance), stop once it has none, so that an
// operator's poweroff of a cluster kept for good (--ttl 0) stops the
// machine instead of terminating it and deleting its volumes
// (DeleteOnTermination). The timer on the instance is moved over SSH
// (DeadlineCommand; docs/expiry.md).
func (p *Provider) Expire(ctx context.Context, spec cloud.HostSpec, h cloud.Host) error {
	if h.ProviderID == "" {
		return nil
	}
	behaviour := types.ShutdownBehaviorTerminate
	if spec.Expires.IsZero() {
		behaviour = types.ShutdownBehaviorStop
		_, err := p.ec2.DeleteTags(ctx, &ec2.DeleteTagsInput{Resources: []string{h.ProviderID}, Tags: []types.Tag{{Key: awssdk.String(TagExpires)}}})
		if err != nil {
			return fmt.Errorf("removing the deadline tag of %s: %w", h.ProviderID, err)
		}
	} else {
		tags := map[string]string{TagExpires: spec.Expires.UTC().Format(time.RFC3339)}
		if _, err := p.ec2.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{h.ProviderID}, Tags: tagList(tags)}); err != nil {
			return fmt.Errorf("tagging %s with its deadline: %w", h.ProviderID, err)
		}
	}
	if _, err := p.ec2.ModifyInstanceAttribute(ctx, &ec2.ModifyInstanceAttributeInput{InstanceId: awssdk.String(h.ProviderID),
		InstanceInitiatedShutdownBehavior: &types.AttributeValue{Value: awssdk.String(string(behaviour))}}); err != nil {
		return fmt.Errorf("setting the shutdown behaviour of %s to %s: %w", h.ProviderID, behaviour, err)
	}
	return nil
}

// expireAt makes the instances in end themselves at deadline, with nobody
// running diffuser: shutdown from inside the instance terminates it
// (InstanceInitiatedShutdownBehavior), and the user data installs a
// systemd timer that powers off at the deadline. Persistent=true runs a
// timer missed while the instance was stopped at its next boot; without
// systemd, shutdown(8) is scheduled for the minutes left (lost on a
// reboot); a deadline already passed when the user data runs ends the
// instance then. The deadline is also tagged, for diffuser and for people.
func expireAt(in *ec2.RunInstancesInput, tags map[string]string, deadline time.Time) {
	deadline = deadline.UTC()
	tags[TagExpires] = deadline.Format(time.RFC3339)
	in.InstanceInitiatedShutdownBehavior = types.ShutdownBehaviorTerminate
	in.UserData = awssdk.String(base64.StdEncoding.EncodeToString([]byte(ExpireUserData(deadline))))
}

// ExpireUserData is the shell script (cloud-init user data) that ends the
// instance at deadline. It holds no value from a user: only the deadline,
// formatted here.
func ExpireUserData(deadline time.Time) string {
	deadline = deadline.UTC()
	return fmt.Sprintf(`#!/bin/sh
# diffuser: this instance belongs to a cluster with a deadline (ttl) and
# ends itself then; shutdown terminates it (InstanceInitiatedShutdownBehavior).
deadline=%d
mkdir -p /etc/diffuser && echo %s > /etc/diffuser/expires
if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
  printf '%%s\n' '[Unit]' 'Description=diffuser: end this instance at its cluster deadline' \
    '[Service]' 'Type=oneshot' 'ExecStart=/bin/systemctl poweroff' > /etc/systemd/system/diffuser-expire.service
  printf '%%s\n' '[Unit]' 'Description=diffuser: cluster deadline' '[Timer]' 'OnCalendar=%s' \
    'Persistent=true' 'AccuracySec=1s' '[Install]' 'WantedBy=timers.target' > /etc/systemd/system/diffuser-expire.timer
  if systemctl daemon-reload && systemctl enable --now diffuser-expire.timer; then
    # A deadline already passed as this runs (a boot slower than the ttl):
    # systemd never fires a calendar timer installed after its time.
    [ "$(date +%%s)" -lt "$deadline" ] || systemctl start --no-block diffuser-expire.service
    exit 0
  fi
fi
left=$(( (deadline - $(date +%%s) + 59) / 60 ))
[ "$left" -lt 1 ] && left=1
shutdown -h +"$left" "diffuser: cluster deadline reached"
`, deadline.Unix(), deadline.Format(time.RFC3339), deadline.Format("2006-01-02 15:04:05 UTC"))
}
