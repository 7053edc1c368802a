package compat

import (
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	cvm "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/cvm/v20170312"
)

// The seeds' own example: CVM DescribeInstancesStatus on an empty account.
func TestSeedExampleDescribeInstancesStatusIsAnEmptySetWithARequestId(t *testing.T) {
	t.Parallel()
	resp, err := cvmClient(t, shared).DescribeInstancesStatus(statusRequest())
	if err != nil {
		t.Fatal(err)
	}
	if resp.Response.TotalCount == nil || *resp.Response.TotalCount != 0 {
		t.Fatalf("TotalCount: %s", resp.ToJsonString())
	}
	if resp.Response.InstanceStatusSet == nil || len(resp.Response.InstanceStatusSet) != 0 {
		t.Fatalf("InstanceStatusSet is not an empty list: %s", resp.ToJsonString())
	}
	assertRequestID(t, resp.Response.RequestId)
}

func TestSeedExampleEnvelopeIsResponseWithExactlyTheDocumentedMembers(t *testing.T) {
	t.Parallel()
	rec := newRecorder()
	c := cvmClient(t, shared)
	c.WithHttpTransport(rec)
	if _, err := c.DescribeInstancesStatus(statusRequest()); err != nil {
		t.Fatal(err)
	}
	if len(rec.got) != 1 {
		t.Fatalf("%d exchanges", len(rec.got))
	}
	got := rec.got[0]
	if got.StatusCode != 200 || got.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("HTTP %d, Content-Type %q", got.StatusCode, got.Header.Get("Content-Type"))
	}
	// The SDK has read the body; ask again through the generic client for the raw document.
	doc, err := callJSON(commonClient(shared, common.NewCredential(devSecretID, devSecretKey), region), "cvm", cvmVersion, "DescribeInstancesStatus", nil)
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for k := range doc {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if strings.Join(keys, ",") != "InstanceStatusSet,RequestId,TotalCount" {
		t.Fatalf("members of Response: %v", keys)
	}
	if set, ok := doc["InstanceStatusSet"].([]any); !ok || len(set) != 0 {
		t.Fatalf("InstanceStatusSet: %#v", doc["InstanceStatusSet"])
	}
	if doc["TotalCount"] != float64(0) {
		t.Fatalf("TotalCount: %#v", doc["TotalCount"])
	}
	id, _ := doc["RequestId"].(string)
	assertRequestID(t, &id)
}

func TestErrorAnswerIsHTTP200WithJSONContentTypeAndTheSDKRaisesIt(t *testing.T) {
	t.Parallel()
	rec := newRecorder()
	c := cvmWith(t, shared, common.NewCredential(devSecretID, wrongSecretKey), region)
	c.WithHttpTransport(rec)
	_, err := c.DescribeInstancesStatus(statusRequest())
	expectCode(t, err, "AuthFailure.SignatureFailure")
	if len(rec.got) != 1 || rec.got[0].StatusCode != 200 || rec.got[0].Header.Get("Content-Type") != "application/json" {
		t.Fatalf("error answer: %d exchanges, first %v", len(rec.got), rec.got)
	}
}

func TestRequestIdsAreFreshUUID4sPerRequest(t *testing.T) {
	t.Parallel()
	c := cvmClient(t, shared)
	seen := map[string]bool{}
	for i := 0; i < 5; i++ {
		resp, err := c.DescribeInstancesStatus(statusRequest())
		if err != nil {
			t.Fatal(err)
		}
		assertRequestID(t, resp.Response.RequestId)
		seen[*resp.Response.RequestId] = true
	}
	if len(seen) != 5 {
		t.Fatalf("%d distinct RequestIds in 5 calls", len(seen))
	}
}

func TestJournalFindsTheSDKsRequestByItsRequestIdAndNamesTheGoSDK(t *testing.T) {
	t.Parallel()
	resp, err := cvmClient(t, shared).DescribeZones(cvm.NewDescribeZonesRequest())
	if err != nil {
		t.Fatal(err)
	}
	entry := journal(t, shared, *resp.Response.RequestId)
	if entry["action"] != "DescribeZones" || entry["service"] != "cvm" || entry["auth"] != "verified" || entry["code"] != nil {
		t.Fatalf("journal entry: %v", entry)
	}
	if client, _ := entry["client"].(string); !strings.HasPrefix(client, "SDK_GO_") {
		t.Fatalf("journal client %q, want SDK_GO_*", client)
	}
}

func TestDescribeZonesListsApGuangzhou3WithItsChineseName(t *testing.T) {
	t.Parallel()
	resp, err := cvmClient(t, shared).DescribeZones(cvm.NewDescribeZonesRequest())
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]string{}
	for _, z := range resp.Response.ZoneSet {
		names[*z.Zone] = *z.ZoneName + "/" + *z.ZoneState
	}
	if names["ap-guangzhou-3"] != "广州三区/AVAILABLE" {
		t.Fatalf("ap-guangzhou-3: %q (zones %v)", names["ap-guangzhou-3"], names)
	}
	if int(*resp.Response.TotalCount) != len(resp.Response.ZoneSet) {
		t.Fatalf("TotalCount %d for %d zones", *resp.Response.TotalCount, len(resp.Response.ZoneSet))
	}
}

func TestEnglishLanguageProfileGetsEnglishZoneNames(t *testing.T) {
	t.Parallel()
	resp, err := cvmClient(t, shared, withLanguage("en-US")).DescribeZones(cvm.NewDescribeZonesRequest())
	if err != nil {
		t.Fatal(err)
	}
	for _, z := range resp.Response.ZoneSet {
		if *z.Zone == "ap-guangzhou-3" {
			if *z.ZoneName != "Guangzhou Zone 3" {
				t.Fatalf("ZoneName %q", *z.ZoneName)
			}
			return
		}
	}
	t.Fatal("no ap-guangzhou-3")
}

// Every member tclocal sends is one the SDK's model has: Go drops unknown members silently, so
// the raw answer is checked against the model's JSON names.
func TestDescribeRegionsSendsOnlyMembersOfTheSDKModel(t *testing.T) {
	t.Parallel()
	resp, err := cvmClient(t, shared).DescribeRegions(cvm.NewDescribeRegionsRequest())
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, r := range resp.Response.RegionSet {
		if *r.Region == "ap-guangzhou" && *r.RegionState == "AVAILABLE" {
			found = true
		}
	}
	if !found || int(*resp.Response.TotalCount) != len(resp.Response.RegionSet) {
		t.Fatalf("regions: %s", resp.ToJsonString())
	}
	raw, err := callJSON(commonClient(shared, common.NewCredential(devSecretID, devSecretKey), region), "cvm", cvmVersion, "DescribeRegions", nil)
	if err != nil {
		t.Fatal(err)
	}
	assertModelMembers(t, "Response", raw, cvm.DescribeRegionsResponseParams{})
	assertModelMembers(t, "RegionSet[0]", raw["RegionSet"].([]any)[0].(map[string]any), cvm.RegionInfo{})
}

// assertModelMembers fails when raw (what tclocal sent) has a member that model, an SDK
// model struct, has no JSON name for.
func assertModelMembers(t *testing.T, where string, raw map[string]any, model any) {
	t.Helper()
	known := map[string]bool{}
	ty := reflect.TypeOf(model)
	for i := 0; i < ty.NumField(); i++ {
		name := strings.Split(ty.Field(i).Tag.Get("json"), ",")[0]
		known[name] = true
	}
	var extra []string
	for k := range raw {
		if !known[k] {
			extra = append(extra, k)
		}
	}
	sort.Strings(extra)
	if len(extra) > 0 {
		t.Fatalf("%s: members the SDK model %s does not have: %v", where, ty.Name(), extra)
	}
}
