package compat

// Common error codes as the Go SDK's *errors.TencentCloudSDKError: Code, Message, RequestId.

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	cvm "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/cvm/v20170312"
)

var signMethods = []string{"TC3-HMAC-SHA256", "HmacSHA1", "HmacSHA256"}

func TestWrongSecretKeyIsSignatureFailureForEverySignMethod(t *testing.T) {
	t.Parallel()
	for _, sign := range signMethods {
		for _, method := range []string{"POST", "GET"} {
			c := cvmWith(t, shared, common.NewCredential(devSecretID, wrongSecretKey), region, withSign(sign), withMethod(method))
			_, err := c.DescribeInstancesStatus(statusRequest())
			e := expectCode(t, err, "AuthFailure.SignatureFailure")
			// The SDK error carries the same RequestId the server journaled.
			entry := journal(t, shared, e.GetRequestId())
			if entry["code"] != "AuthFailure.SignatureFailure" {
				t.Fatalf("%s %s: journal %v", sign, method, entry)
			}
		}
	}
}

func TestSDKErrorStringCarriesCodeMessageAndRequestId(t *testing.T) {
	t.Parallel()
	_, err := cvmWith(t, shared, common.NewCredential(devSecretID, wrongSecretKey), region, withLanguage("en-US")).DescribeInstancesStatus(statusRequest())
	e := expectCode(t, err, "AuthFailure.SignatureFailure")
	if e.GetMessage() != "The provided credentials could not be validated. Please check your signature is correct." {
		t.Fatalf("en-US message %q", e.GetMessage())
	}
	want := fmt.Sprintf("[TencentCloudSDKError] Code=AuthFailure.SignatureFailure, Message=%s, RequestId=%s", e.GetMessage(), e.GetRequestId())
	if err.Error() != want {
		t.Fatalf("Error() = %q", err.Error())
	}
}

func TestKeyShapedSecretIdNeverIssuedIsSecretIdNotFound(t *testing.T) {
	t.Parallel()
	for _, sign := range signMethods {
		_, err := cvmWith(t, shared, common.NewCredential(unknownSecretID, devSecretKey), region, withSign(sign)).DescribeInstancesStatus(statusRequest())
		expectCode(t, err, "AuthFailure.SecretIdNotFound")
	}
}

func TestSecretIdThatIsNotKeyShapedIsInvalidSecretId(t *testing.T) {
	t.Parallel()
	_, err := cvmWith(t, shared, common.NewCredential("not-a-key", devSecretKey), region).DescribeInstancesStatus(statusRequest())
	expectCode(t, err, "AuthFailure.InvalidSecretId")
}

func TestEmptyRegionIsMissingParameterRegion(t *testing.T) {
	t.Parallel()
	for _, sign := range signMethods {
		_, err := cvmWith(t, shared, common.NewCredential(devSecretID, devSecretKey), "", withSign(sign), withLanguage("en-US")).DescribeInstancesStatus(statusRequest())
		e := expectCode(t, err, "MissingParameter")
		if e.GetMessage() != "The request is missing a required parameter `Region`." {
			t.Fatalf("%s: message %q", sign, e.GetMessage())
		}
	}
}

func TestUnknownRegionIsInvalidParameterValueAndARegionWithoutCVMIsUnsupportedRegion(t *testing.T) {
	t.Parallel()
	_, err := cvmWith(t, shared, common.NewCredential(devSecretID, devSecretKey), "gz").DescribeInstancesStatus(statusRequest())
	if e := expectCode(t, err, "InvalidParameterValue"); !strings.Contains(e.GetMessage(), "Region") {
		t.Fatalf("message %q", e.GetMessage())
	}
	_, err = cvmWith(t, shared, common.NewCredential(devSecretID, devSecretKey), "na-toronto").DescribeInstancesStatus(statusRequest())
	expectCode(t, err, "UnsupportedRegion")
}

func TestLimitOutOfRangeIsInvalidParameterValueAndTheEdgeIsAccepted(t *testing.T) {
	t.Parallel()
	c := cvmClient(t, shared)
	req := statusRequest()
	req.Limit = common.Int64Ptr(101)
	_, err := c.DescribeInstancesStatus(req)
	expectCode(t, err, "InvalidParameterValue")
	req.Limit = common.Int64Ptr(100)
	if _, err := c.DescribeInstancesStatus(req); err != nil {
		t.Fatal(err)
	}
	req.Limit, req.Offset = nil, common.Int64Ptr(-1)
	_, err = c.DescribeInstancesStatus(req)
	expectCode(t, err, "InvalidParameterValue")
}

func TestMoreThan100InstanceIdsIsInvalidParameterValueLimitExceeded(t *testing.T) {
	t.Parallel()
	req := statusRequest()
	for i := 0; i < 101; i++ {
		req.InstanceIds = append(req.InstanceIds, common.StringPtr(fmt.Sprintf("ins-%08x", i)))
	}
	_, err := cvmClient(t, shared).DescribeInstancesStatus(req)
	expectCode(t, err, "InvalidParameterValue.LimitExceeded")
}

func TestMalformedInstanceIdIsInvalidInstanceIdMalformed(t *testing.T) {
	t.Parallel()
	req := statusRequest()
	req.InstanceIds = common.StringPtrs([]string{"bad-id"})
	_, err := cvmClient(t, shared).DescribeInstancesStatus(req)
	expectCode(t, err, "InvalidInstanceId.Malformed")
}

func TestStartInstancesWithoutInstanceIdsIsMissingParameter(t *testing.T) {
	t.Parallel()
	_, err := cvmClient(t, shared).StartInstances(cvm.NewStartInstancesRequest())
	if e := expectCode(t, err, "MissingParameter"); !strings.Contains(e.GetMessage(), "InstanceIds") {
		t.Fatalf("message %q", e.GetMessage())
	}
}

// The generic client sends what the typed one cannot: members no model has, unknown actions
// and versions.
func TestCommonClientErrorsAreUnknownParameterInvalidActionNoSuchVersion(t *testing.T) {
	t.Parallel()
	c := commonClient(shared, common.NewCredential(devSecretID, devSecretKey), region, withLanguage("en-US"))
	_, err := callJSON(c, "cvm", cvmVersion, "DescribeInstancesStatus", map[string]any{"Foo": 1})
	if e := expectCode(t, err, "UnknownParameter"); e.GetMessage() != "The parameter `Foo` is not recognized." {
		t.Fatalf("message %q", e.GetMessage())
	}
	_, err = callJSON(c, "cvm", cvmVersion, "DescribeInstancesStatus", map[string]any{"Limit": "abc"})
	expectCode(t, err, "InvalidParameter")
	_, err = callJSON(c, "cvm", cvmVersion, "NoSuchAction", nil)
	expectCode(t, err, "InvalidAction")
	_, err = callJSON(c, "cvm", "2099-01-01", "DescribeInstancesStatus", nil)
	expectCode(t, err, "NoSuchVersion")
}

func TestModelledButNotEmulatedActionIsUnsupportedOperation(t *testing.T) {
	t.Parallel()
	req := cvm.NewDescribeInstancesOperationLimitRequest()
	req.InstanceIds = common.StringPtrs([]string{"ins-r8hr2upy"})
	req.Operation = common.StringPtr("INSTANCE_DEGRADE")
	_, err := cvmClient(t, shared, withLanguage("en-US")).DescribeInstancesOperationLimit(req)
	if e := expectCode(t, err, "UnsupportedOperation"); !strings.Contains(e.GetMessage(), "DescribeInstancesOperationLimit") {
		t.Fatalf("message %q", e.GetMessage())
	}
}

// skewTransport moves the request's timestamp by skew on its way out. The SDK stamps requests
// with time.Now() and offers no clock to replace; the signature no longer matches either, but
// tclocal checks the timestamp first, as the cloud does.
type skewTransport struct {
	skew  time.Duration
	inner http.RoundTripper
}

func (s skewTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	shift := func(v string) string {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return v
		}
		return strconv.FormatInt(n+int64(s.skew/time.Second), 10)
	}
	if ts := req.Header.Get("X-TC-Timestamp"); ts != "" {
		req.Header.Set("X-TC-Timestamp", shift(ts))
	} else if q := req.URL.Query(); q.Get("Timestamp") != "" {
		q.Set("Timestamp", shift(q.Get("Timestamp")))
		req.URL.RawQuery = q.Encode()
	}
	return s.inner.RoundTrip(req)
}

func TestTimestampOutsideMaxSkewIsSignatureExpireAndCheckedBeforeTheSecretId(t *testing.T) {
	t.Parallel()
	for _, skew := range []time.Duration{-time.Hour, -7 * time.Minute, 7 * time.Minute, time.Hour} {
		for _, w := range []struct{ method, sign string }{{"POST", "TC3-HMAC-SHA256"}, {"GET", "HmacSHA256"}} {
			c := cvmClient(t, shared, withMethod(w.method), withSign(w.sign))
			c.WithHttpTransport(skewTransport{skew, newRecorder()})
			_, err := c.DescribeInstancesStatus(statusRequest())
			expectCode(t, err, "AuthFailure.SignatureExpire")
		}
	}
	c := cvmWith(t, shared, common.NewCredential(unknownSecretID, devSecretKey), region)
	c.WithHttpTransport(skewTransport{-time.Hour, newRecorder()})
	_, err := c.DescribeInstancesStatus(statusRequest())
	expectCode(t, err, "AuthFailure.SignatureExpire")
}

func TestMaxSkewFlagTightensTheTimestampWindow(t *testing.T) {
	t.Parallel()
	s := serve(t, "max-skew-60", "--max-skew", "60")
	// Two minutes off: outside 60 s here; an unsigned timestamp change also breaks the
	// signature, so inside the window the answer is SignatureFailure, not success.
	c := cvmClient(t, s)
	c.WithHttpTransport(skewTransport{-2 * time.Minute, newRecorder()})
	_, err := c.DescribeInstancesStatus(statusRequest())
	expectCode(t, err, "AuthFailure.SignatureExpire")
	c = cvmClient(t, shared)
	c.WithHttpTransport(skewTransport{-2 * time.Minute, newRecorder()})
	_, err = c.DescribeInstancesStatus(statusRequest())
	expectCode(t, err, "AuthFailure.SignatureFailure")
}
