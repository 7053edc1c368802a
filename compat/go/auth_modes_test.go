package compat

// --auth off and --auth soft: what the signature checks let through.

import (
	"strings"
	"testing"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
)

func TestAuthOffAcceptsAWrongSecretKeyButStillValidatesParameters(t *testing.T) {
	t.Parallel()
	s := serve(t, "auth-off", "--auth", "off")
	for _, sign := range signMethods {
		c := cvmWith(t, s, common.NewCredential(devSecretID, wrongSecretKey), region, withSign(sign))
		resp, err := c.DescribeInstancesStatus(statusRequest())
		if err != nil {
			t.Fatalf("%s: %v", sign, err)
		}
		if *resp.Response.TotalCount != 0 {
			t.Fatalf("%s: %s", sign, resp.ToJsonString())
		}
		assertRequestID(t, resp.Response.RequestId)
	}
	req := statusRequest()
	req.Limit = common.Int64Ptr(101)
	_, err := cvmWith(t, s, common.NewCredential(devSecretID, wrongSecretKey), region).DescribeInstancesStatus(req)
	expectCode(t, err, "InvalidParameterValue")
}

func TestAuthSoftServesAWrongSignatureAndJournalsTheFailure(t *testing.T) {
	t.Parallel()
	s := serve(t, "auth-soft", "--auth", "soft")
	resp, err := cvmWith(t, s, common.NewCredential(devSecretID, wrongSecretKey), region).DescribeInstancesStatus(statusRequest())
	if err != nil {
		t.Fatal(err)
	}
	entry := journal(t, s, *resp.Response.RequestId)
	if auth, _ := entry["auth"].(string); !strings.Contains(auth, "AuthFailure.SignatureFailure") {
		t.Fatalf("journal auth %q", auth)
	}
	resp, err = cvmClient(t, s).DescribeInstancesStatus(statusRequest())
	if err != nil {
		t.Fatal(err)
	}
	if entry := journal(t, s, *resp.Response.RequestId); entry["auth"] != "verified" {
		t.Fatalf("journal auth %v", entry["auth"])
	}
}
