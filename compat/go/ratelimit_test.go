package compat

// Rate limits (`--rate-limit DescribeZones=2`: two calls per account and wall-clock second)
// answer RequestLimitExceeded, and the SDK's opt-in retry (ClientProfile.
// RateLimitExceededMaxRetries / RateLimitExceededRetryDuration) retries it.

import (
	"fmt"
	"testing"
	"time"

	cvm "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/cvm/v20170312"
)

// nextSecond sleeps until just after the next wall-clock second starts, so a test's calls fall
// into one rate-limit window.
func nextSecond() {
	now := time.Now()
	time.Sleep(now.Truncate(time.Second).Add(time.Second + 30*time.Millisecond).Sub(now))
}

// zoneCodes are the codes of the newest n DescribeZones calls in the journal, oldest first.
func zoneCodes(t *testing.T, s *server, n int) []string {
	t.Helper()
	status, listing := control(t, s, "GET", fmt.Sprintf("/_tclocal/requests?action=DescribeZones&limit=%d", n), nil)
	if status != 200 {
		t.Fatalf("journal: %d %v", status, listing)
	}
	entries, _ := listing["requests"].([]any)
	var codes []string
	for i := len(entries) - 1; i >= 0; i-- {
		code, _ := entries[i].(map[string]any)["code"].(string)
		if code == "" {
			code = "ok"
		}
		codes = append(codes, code)
	}
	return codes
}

func TestThirdCallInOneSecondIsRequestLimitExceededWithoutRetries(t *testing.T) {
	t.Parallel()
	s := serve(t, "rate-limit", "--rate-limit", "DescribeZones=2")
	c := cvmClient(t, s)
	nextSecond()
	var codes []string
	for i := 0; i < 3; i++ {
		_, err := c.DescribeZones(cvm.NewDescribeZonesRequest())
		codes = append(codes, codeOf(err))
		if i == 2 {
			expectCode(t, err, "RequestLimitExceeded")
		}
	}
	if fmt.Sprint(codes) != "[ok ok RequestLimitExceeded]" {
		t.Fatalf("codes %v", codes)
	}
	// Other actions have no limit.
	for i := 0; i < 3; i++ {
		if _, err := c.DescribeRegions(cvm.NewDescribeRegionsRequest()); err != nil {
			t.Fatal(err)
		}
	}
}

func TestSDKRateLimitRetryWaitsOutTheSecondAndSucceeds(t *testing.T) {
	t.Parallel()
	s := serve(t, "rate-limit-retry", "--rate-limit", "DescribeZones=2")
	c := cvmClient(t, s, withRateLimitRetries(3, 1100*time.Millisecond))
	nextSecond()
	var last *cvm.DescribeZonesResponse
	for i := 0; i < 3; i++ {
		resp, err := c.DescribeZones(cvm.NewDescribeZonesRequest())
		if err != nil {
			t.Fatalf("call %d: %v", i+1, err)
		}
		last = resp
	}
	// The third call was refused once, then its retry landed in the next second.
	if got := fmt.Sprint(zoneCodes(t, s, 4)); got != "[ok ok RequestLimitExceeded ok]" {
		t.Fatalf("journal codes %s", got)
	}
	entry := journal(t, s, *last.Response.RequestId)
	if entry["code"] != nil {
		t.Fatalf("the answer the SDK returned is not the successful retry: %v", entry)
	}
}

func TestSDKRateLimitRetryGivesUpAfterItsMaximumWithTheLastError(t *testing.T) {
	t.Parallel()
	s := serve(t, "rate-limit-give-up", "--rate-limit", "DescribeZones=2")
	// Retries 50 ms apart stay inside the same second.
	c := cvmClient(t, s, withRateLimitRetries(2, 50*time.Millisecond))
	nextSecond()
	for i := 0; i < 2; i++ {
		if _, err := c.DescribeZones(cvm.NewDescribeZonesRequest()); err != nil {
			t.Fatal(err)
		}
	}
	_, err := c.DescribeZones(cvm.NewDescribeZonesRequest())
	e := expectCode(t, err, "RequestLimitExceeded")
	if got := fmt.Sprint(zoneCodes(t, s, 5)); got != "[ok ok RequestLimitExceeded RequestLimitExceeded RequestLimitExceeded]" {
		t.Fatalf("journal codes %s (one call and two retries expected)", got)
	}
	if entry := journal(t, s, e.GetRequestId()); entry["code"] != "RequestLimitExceeded" {
		t.Fatalf("journal %v", entry)
	}
}

// With retries on, the SDK puts a ClientToken into requests that have one, so a retried
// RunInstances is idempotent: the launch refused by the rate limit happens once, on the retry.
func TestSDKRetryInjectsAClientTokenAndTheRetriedRunInstancesLaunchesOnce(t *testing.T) {
	t.Parallel()
	s := serve(t, "rate-limit-run", "--rate-limit", "RunInstances=1")
	c := cvmClient(t, s, withRateLimitRetries(3, 1100*time.Millisecond))
	nextSecond()
	first, second := runRequest(1), runRequest(1)
	if _, err := c.RunInstances(first); err != nil {
		t.Fatal(err)
	}
	resp, err := c.RunInstances(second)
	if err != nil {
		t.Fatal(err)
	}
	if second.ClientToken == nil || *second.ClientToken == "" || *second.ClientToken == *first.ClientToken {
		t.Fatalf("ClientTokens %v / %v", first.ClientToken, second.ClientToken)
	}
	status, listing := control(t, s, "GET", "/_tclocal/requests?action=RunInstances&limit=10", nil)
	if status != 200 || listing["total"] != float64(3) {
		t.Fatalf("journal: %d %v", status, listing)
	}
	all, err := c.DescribeInstances(cvm.NewDescribeInstancesRequest())
	if err != nil {
		t.Fatal(err)
	}
	if *all.Response.TotalCount != 2 || len(resp.Response.InstanceIdSet) != 1 {
		t.Fatalf("%d instances after two launches", *all.Response.TotalCount)
	}
	// The same request object sent again carries the same token: the same instance comes back.
	again, err := c.RunInstances(second)
	if err != nil {
		t.Fatal(err)
	}
	if *again.Response.InstanceIdSet[0] != *resp.Response.InstanceIdSet[0] {
		t.Fatalf("resent request launched %s, first %s", *again.Response.InstanceIdSet[0], *resp.Response.InstanceIdSet[0])
	}
}
