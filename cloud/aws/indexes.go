package aws

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// instanceIndex reads a host index from an instance's tags: diffuser:index
// if present, else entry AmiLaunchIndex of diffuser:indexes.
func instanceIndex(inst types.Instance) (int, bool) {
	if v, ok := tagValue(inst.Tags, tagIndex); ok {
		i, err := strconv.Atoi(v)
		return i, err == nil && i >= 0
	}
	v, ok := tagValue(inst.Tags, tagIndexes)
	if !ok {
		return 0, false
	}
	list, err := decodeIndexes(v)
	n := int(aws.ToInt32(inst.AmiLaunchIndex))
	if err != nil || n < 0 || n >= len(list) {
		return 0, false
	}
	return list[n], true
}

// clientToken is the RunInstances idempotency token (at most 64 ASCII
// characters): the same cluster, group, generation and indexes always give
// the same token, so EC2 returns the first call's reservation instead of
// launching again.
func clientToken(cluster, group string, gen int, indexes []int) string {
	sum := sha256.Sum256([]byte(fmt.Sprintf("%s\x00%s\x00%d\x00%s", cluster, group, gen, encodeIndexes(indexes))))
	return fmt.Sprintf("diffuser-g%d-%s", gen, hex.EncodeToString(sum[:])[:40])
}

// encodeIndexes writes sorted indexes as ranges: [0 1 2 5 7 8] → "0-2,5,7-8".
func encodeIndexes(list []int) string {
	sorted := append([]int(nil), list...)
	sort.Ints(sorted)
	var b strings.Builder
	for i := 0; i < len(sorted); {
		j := i
		for j+1 < len(sorted) && sorted[j+1] == sorted[j]+1 {
			j++
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(sorted[i]))
		if j > i {
			b.WriteString("-" + strconv.Itoa(sorted[j]))
		}
		i = j + 1
	}
	return b.String()
}

func decodeIndexes(s string) ([]int, error) {
	var out []int
	for _, part := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.Atoi(lo)
		if err != nil {
			return nil, fmt.Errorf("index list %q: %w", s, err)
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil || b < a {
				return nil, fmt.Errorf("index list %q: bad range %q", s, part)
			}
		}
		for i := a; i <= b; i++ {
			out = append(out, i)
		}
	}
	return out, nil
}

// maxTagValue is EC2's limit on a tag value's length.
const maxTagValue = 256

// indexChunks splits sorted indexes so each chunk's encoding fits a tag value.
func indexChunks(list []int) [][]int {
	sorted := append([]int(nil), list...)
	sort.Ints(sorted)
	var out [][]int
	start := 0
	for start < len(sorted) {
		end := start + 1
		for end < len(sorted) && len(encodeIndexes(sorted[start:end+1])) <= maxTagValue {
			end++
		}
		out = append(out, sorted[start:end])
		start = end
	}
	return out
}
