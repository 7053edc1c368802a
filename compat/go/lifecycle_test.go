package compat

// Stateful CVM with typed requests, as a user writes them, on a server of each test's own with
// short transitions (launch 10 s, start/stop/reboot 5 s, terminate 3 s of emulated time) and
// 5 instances per region; the tests move emulated time through the control plane.

import (
	"regexp"
	"sort"
	"testing"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	cvm "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/cvm/v20170312"
)

const (
	tencentOS = "img-zsxdft8i" // TencentOS Server 3.1
	launchS   = 10
	stopS     = 5
	terminate = 3
)

var instanceID = regexp.MustCompile(`^ins-[0-9a-z]{8}$`)

func lifecycleServer(t *testing.T) *server {
	return serve(t, "cvm-lifecycle",
		"--cvm-timings", "launch=10,start=5,stop=5,reboot=5,terminate=3",
		"--cvm-instance-quota", "5")
}

func runRequest(count int64) *cvm.RunInstancesRequest {
	req := cvm.NewRunInstancesRequest()
	req.Placement = &cvm.Placement{Zone: common.StringPtr("ap-guangzhou-3")}
	req.InstanceType = common.StringPtr("S5.MEDIUM2")
	req.ImageId = common.StringPtr(tencentOS)
	req.InstanceCount = common.Int64Ptr(count)
	return req
}

func runInstances(t *testing.T, c *cvm.Client, count int64) []string {
	t.Helper()
	resp, err := c.RunInstances(runRequest(count))
	if err != nil {
		t.Fatal(err)
	}
	assertRequestID(t, resp.Response.RequestId)
	var ids []string
	for _, id := range resp.Response.InstanceIdSet {
		if !instanceID.MatchString(*id) {
			t.Fatalf("instance id %q", *id)
		}
		ids = append(ids, *id)
	}
	if int64(len(ids)) != count {
		t.Fatalf("%d ids for %d instances", len(ids), count)
	}
	return ids
}

// states is InstanceId → InstanceState from DescribeInstances by id.
func states(t *testing.T, c *cvm.Client, ids []string) map[string]string {
	t.Helper()
	req := cvm.NewDescribeInstancesRequest()
	req.InstanceIds = common.StringPtrs(ids)
	resp, err := c.DescribeInstances(req)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, ins := range resp.Response.InstanceSet {
		out[*ins.InstanceId] = *ins.InstanceState
	}
	if int(*resp.Response.TotalCount) != len(out) {
		t.Fatalf("TotalCount %d for %d instances", *resp.Response.TotalCount, len(out))
	}
	return out
}

func allIn(ids []string, state string) map[string]string {
	m := map[string]string{}
	for _, id := range ids {
		m[id] = state
	}
	return m
}

func assertStates(t *testing.T, got, want map[string]string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("states %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Fatalf("states %v, want %v", got, want)
		}
	}
}

func TestRunDescribeStopTerminateFollowEmulatedTime(t *testing.T) {
	t.Parallel()
	s := lifecycleServer(t)
	c := cvmClient(t, s)
	ids := runInstances(t, c, 2)
	assertStates(t, states(t, c, ids), allIn(ids, "PENDING"))
	advanceClock(t, s, launchS)
	assertStates(t, states(t, c, ids), allIn(ids, "RUNNING"))

	stop := cvm.NewStopInstancesRequest()
	stop.InstanceIds = common.StringPtrs(ids[:1])
	resp, err := c.StopInstances(stop)
	if err != nil {
		t.Fatal(err)
	}
	assertRequestID(t, resp.Response.RequestId)
	assertStates(t, states(t, c, ids), map[string]string{ids[0]: "STOPPING", ids[1]: "RUNNING"})
	advanceClock(t, s, stopS)
	assertStates(t, states(t, c, ids), map[string]string{ids[0]: "STOPPED", ids[1]: "RUNNING"})

	term := cvm.NewTerminateInstancesRequest()
	term.InstanceIds = common.StringPtrs(ids)
	if _, err := c.TerminateInstances(term); err != nil {
		t.Fatal(err)
	}
	assertStates(t, states(t, c, ids), allIn(ids, "TERMINATING"))
	advanceClock(t, s, terminate)
	assertStates(t, states(t, c, ids), map[string]string{})

	start := cvm.NewStartInstancesRequest()
	start.InstanceIds = common.StringPtrs(ids[:1])
	_, err = c.StartInstances(start)
	expectCode(t, err, "InvalidInstanceId.NotFound")
}

func TestDescribeInstancesFillsTheSDKInstanceModel(t *testing.T) {
	t.Parallel()
	s := lifecycleServer(t)
	c := cvmClient(t, s)
	req := runRequest(1)
	req.InstanceName = common.StringPtr("web-1")
	req.TagSpecification = []*cvm.TagSpecification{{
		ResourceType: common.StringPtr("instance"),
		Tags:         []*cvm.Tag{{Key: common.StringPtr("env"), Value: common.StringPtr("ci")}},
	}}
	resp, err := c.RunInstances(req)
	if err != nil {
		t.Fatal(err)
	}
	id := *resp.Response.InstanceIdSet[0]
	advanceClock(t, s, launchS)
	d := cvm.NewDescribeInstancesRequest()
	d.InstanceIds = common.StringPtrs([]string{id})
	got, err := c.DescribeInstances(d)
	if err != nil {
		t.Fatal(err)
	}
	ins := got.Response.InstanceSet[0]
	if *ins.InstanceName != "web-1" || *ins.InstanceType != "S5.MEDIUM2" || *ins.Placement.Zone != "ap-guangzhou-3" ||
		*ins.ImageId != tencentOS || *ins.InstanceState != "RUNNING" || *ins.CPU != 2 || *ins.Memory != 2 {
		t.Fatalf("instance: %s", got.ToJsonString())
	}
	if len(ins.Tags) != 1 || *ins.Tags[0].Key != "env" || *ins.Tags[0].Value != "ci" {
		t.Fatalf("tags: %s", got.ToJsonString())
	}
	if len(ins.PrivateIpAddresses) != 1 || ins.VirtualPrivateCloud == nil || *ins.VirtualPrivateCloud.VpcId == "" {
		t.Fatalf("network: %s", got.ToJsonString())
	}
	if *ins.LatestOperation != "RunInstances" || *ins.LatestOperationState != "SUCCESS" {
		t.Fatalf("latest operation: %s", got.ToJsonString())
	}
	// Every member tclocal sends for an instance is one the SDK's Instance model has.
	raw, err := callJSON(commonClient(s, common.NewCredential(devSecretID, devSecretKey), region), "cvm", cvmVersion, "DescribeInstances", map[string]any{"InstanceIds": []string{id}})
	if err != nil {
		t.Fatal(err)
	}
	assertModelMembers(t, "InstanceSet[0]", raw["InstanceSet"].([]any)[0].(map[string]any), cvm.Instance{})
}

func TestStoppingAPendingInstanceIsUnsupportedOperationInstanceStatePending(t *testing.T) {
	t.Parallel()
	s := lifecycleServer(t)
	c := cvmClient(t, s)
	ids := runInstances(t, c, 1)
	stop := cvm.NewStopInstancesRequest()
	stop.InstanceIds = common.StringPtrs(ids)
	_, err := c.StopInstances(stop)
	expectCode(t, err, "UnsupportedOperation.InstanceStatePending")
}

func TestSixthInstanceBeyondTheQuotaIsLimitExceededInstanceQuota(t *testing.T) {
	t.Parallel()
	s := lifecycleServer(t)
	c := cvmClient(t, s)
	runInstances(t, c, 5)
	_, err := c.RunInstances(runRequest(1))
	expectCode(t, err, "LimitExceeded.InstanceQuota")
	// The refused call created nothing.
	resp, err := c.DescribeInstances(cvm.NewDescribeInstancesRequest())
	if err != nil {
		t.Fatal(err)
	}
	if *resp.Response.TotalCount != 5 {
		t.Fatalf("%d instances", *resp.Response.TotalCount)
	}
}

func TestDryRunIsDryRunOperationAndCreatesNothing(t *testing.T) {
	t.Parallel()
	s := lifecycleServer(t)
	c := cvmClient(t, s)
	req := runRequest(1)
	req.DryRun = common.BoolPtr(true)
	_, err := c.RunInstances(req)
	expectCode(t, err, "DryRunOperation")
	resp, err := c.DescribeInstances(cvm.NewDescribeInstancesRequest())
	if err != nil {
		t.Fatal(err)
	}
	if *resp.Response.TotalCount != 0 {
		t.Fatalf("%d instances after a dry run", *resp.Response.TotalCount)
	}
}

func TestFiltersAndPagingOfDescribeInstances(t *testing.T) {
	t.Parallel()
	s := lifecycleServer(t)
	c := cvmClient(t, s)
	ids := runInstances(t, c, 3)
	advanceClock(t, s, launchS)
	stop := cvm.NewStopInstancesRequest()
	stop.InstanceIds = common.StringPtrs(ids[:1])
	if _, err := c.StopInstances(stop); err != nil {
		t.Fatal(err)
	}
	req := cvm.NewDescribeInstancesRequest()
	req.Filters = []*cvm.Filter{{Name: common.StringPtr("instance-state"), Values: common.StringPtrs([]string{"RUNNING"})}}
	resp, err := c.DescribeInstances(req)
	if err != nil {
		t.Fatal(err)
	}
	var running []string
	for _, ins := range resp.Response.InstanceSet {
		running = append(running, *ins.InstanceId)
	}
	sort.Strings(running)
	want := append([]string(nil), ids[1:]...)
	sort.Strings(want)
	if len(running) != 2 || running[0] != want[0] || running[1] != want[1] {
		t.Fatalf("RUNNING: %v, want %v", running, want)
	}
	page := cvm.NewDescribeInstancesRequest()
	page.Offset, page.Limit = common.Int64Ptr(2), common.Int64Ptr(2)
	resp, err = c.DescribeInstances(page)
	if err != nil {
		t.Fatal(err)
	}
	if *resp.Response.TotalCount != 3 || len(resp.Response.InstanceSet) != 1 {
		t.Fatalf("page 2: %s", resp.ToJsonString())
	}
}

func TestSameClientTokenReturnsTheSameInstances(t *testing.T) {
	t.Parallel()
	s := lifecycleServer(t)
	c := cvmClient(t, s)
	req := runRequest(2)
	req.ClientToken = common.StringPtr("deploy-42")
	first, err := c.RunInstances(req)
	if err != nil {
		t.Fatal(err)
	}
	again, err := c.RunInstances(req)
	if err != nil {
		t.Fatal(err)
	}
	sameIds := *first.Response.InstanceIdSet[0] == *again.Response.InstanceIdSet[0] &&
		*first.Response.InstanceIdSet[1] == *again.Response.InstanceIdSet[1]
	if !sameIds || *first.Response.RequestId == *again.Response.RequestId {
		t.Fatalf("first %s, again %s", first.ToJsonString(), again.ToJsonString())
	}
}
