package compat

// Keys and temporary credentials: a disabled key is AuthFailure.SecretIdNotFound, and STS
// credentials (common.NewTokenCredential, which sends X-TC-Token) work until they expire in
// emulated time, then AuthFailure.TokenFailure. CAM and STS go through the SDK's generic
// client (common.NewCommonClient), as no typed CAM module is pinned here.

import (
	"testing"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	cvm "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/cvm/v20170312"
)

const (
	ownerUIN          = "100000000001"
	cvmReadOnlyAccess = 1000012
	rootTrust         = `{"version":"2.0","statement":[{"effect":"allow","action":"name/sts:AssumeRole","principal":{"qcs":["qcs::cam::uin/100000000001:root"]}}]}`
)

var root = common.NewCredential(devSecretID, devSecretKey)

func mustCall(t *testing.T, c *common.Client, service, version, action string, params map[string]any) map[string]any {
	t.Helper()
	resp, err := callJSON(c, service, version, action, params)
	if err != nil {
		t.Fatalf("%s %s: %v", service, action, err)
	}
	return resp
}

// assumeReader creates the role "reader" (CVM read-only, trusted by the root account) and
// assumes it for durationS seconds: (TmpSecretId, TmpSecretKey, Token).
func assumeReader(t *testing.T, s *server, durationS int) (string, string, string) {
	t.Helper()
	cam := commonClient(s, root, "")
	mustCall(t, cam, "cam", "2019-01-16", "CreateRole", map[string]any{"RoleName": "reader", "PolicyDocument": rootTrust})
	mustCall(t, cam, "cam", "2019-01-16", "AttachRolePolicy", map[string]any{"PolicyId": cvmReadOnlyAccess, "AttachRoleName": "reader"})
	sts := commonClient(s, root, region)
	resp := mustCall(t, sts, "sts", "2018-08-13", "AssumeRole", map[string]any{
		"RoleArn": "qcs::cam::uin/" + ownerUIN + ":roleName/reader", "RoleSessionName": "ci", "DurationSeconds": durationS,
	})
	creds, _ := resp["Credentials"].(map[string]any)
	id, _ := creds["TmpSecretId"].(string)
	key, _ := creds["TmpSecretKey"].(string)
	token, _ := creds["Token"].(string)
	if id == "" || key == "" || token == "" {
		t.Fatalf("AssumeRole: %v", resp)
	}
	return id, key, token
}

func TestAssumedRoleWorksWithItsTokenUntilItExpiresThenTokenFailure(t *testing.T) {
	t.Parallel()
	s := serve(t, "identity-sts")
	id, key, token := assumeReader(t, s, 600)
	c := cvmWith(t, s, common.NewTokenCredential(id, key, token), region)
	if _, err := c.DescribeInstances(cvm.NewDescribeInstancesRequest()); err != nil {
		t.Fatal(err)
	}
	// The role may read, not launch.
	_, err := c.RunInstances(runRequest(1))
	expectCode(t, err, "AuthFailure.UnauthorizedOperation")
	advanceClock(t, s, 590)
	if _, err := c.DescribeInstances(cvm.NewDescribeInstancesRequest()); err != nil {
		t.Fatalf("10 s before expiry: %v", err)
	}
	advanceClock(t, s, 11)
	_, err = c.DescribeInstances(cvm.NewDescribeInstancesRequest())
	expectCode(t, err, "AuthFailure.TokenFailure")
}

func TestTemporaryKeyWithoutOrWithAWrongTokenIsTokenFailure(t *testing.T) {
	t.Parallel()
	s := serve(t, "identity-token")
	id, key, _ := assumeReader(t, s, 600)
	for _, cred := range []*common.Credential{common.NewCredential(id, key), common.NewTokenCredential(id, key, "forged")} {
		for _, sign := range signMethods {
			_, err := cvmWith(t, s, cred, region, withSign(sign)).DescribeZones(cvm.NewDescribeZonesRequest())
			expectCode(t, err, "AuthFailure.TokenFailure")
		}
	}
}

func TestKeyDisabledThroughTheControlPlaneIsSecretIdNotFoundUntilEnabled(t *testing.T) {
	t.Parallel()
	s := serve(t, "identity-keys")
	status, made := control(t, s, "POST", "/_tclocal/keys", map[string]any{"uin": ownerUIN})
	id, _ := made["SecretId"].(string)
	key, _ := made["SecretKey"].(string)
	if status != 201 && status != 200 || id == "" || key == "" {
		t.Fatalf("create key: %d %v", status, made)
	}
	c := cvmWith(t, s, common.NewCredential(id, key), region)
	if _, err := c.DescribeZones(cvm.NewDescribeZonesRequest()); err != nil {
		t.Fatal(err)
	}
	if status, body := control(t, s, "POST", "/_tclocal/keys/"+id+"/disable", nil); status != 200 {
		t.Fatalf("disable: %d %v", status, body)
	}
	_, err := c.DescribeZones(cvm.NewDescribeZonesRequest())
	expectCode(t, err, "AuthFailure.SecretIdNotFound")
	if status, body := control(t, s, "POST", "/_tclocal/keys/"+id+"/enable", nil); status != 200 {
		t.Fatalf("enable: %d %v", status, body)
	}
	if _, err := c.DescribeZones(cvm.NewDescribeZonesRequest()); err != nil {
		t.Fatal(err)
	}
}
