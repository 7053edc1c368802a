package compat

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	cvm "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/cvm/v20170312"
)

// wire is one way the SDK can send a call: HTTP method × signature method.
type wire struct {
	method, sign string
	// What the recorded request must show.
	authPrefix string
}

var wires = []wire{
	{"POST", "TC3-HMAC-SHA256", "TC3-HMAC-SHA256 Credential=" + devSecretID + "/"},
	{"GET", "TC3-HMAC-SHA256", "TC3-HMAC-SHA256 Credential=" + devSecretID + "/"},
	{"POST", "HmacSHA1", ""},
	{"GET", "HmacSHA1", ""},
	{"POST", "HmacSHA256", ""},
	{"GET", "HmacSHA256", ""},
}

func (w wire) name() string { return w.method + "-" + w.sign }

// Every method × signature the SDK offers is accepted, and the recorded request shows the SDK
// really sent it that way (a TC3 Authorization header, or v1's Signature parameter).
func TestEverySignatureAndHTTPMethodOfTheSDKIsAccepted(t *testing.T) {
	t.Parallel()
	for _, w := range wires {
		w := w
		t.Run(w.name(), func(t *testing.T) {
			t.Parallel()
			rec := newRecorder()
			c := cvmClient(t, shared, withMethod(w.method), withSign(w.sign))
			c.WithHttpTransport(rec)
			req := cvm.NewDescribeZonesRequest()
			resp, err := c.DescribeZones(req)
			if err != nil {
				t.Fatal(err)
			}
			assertRequestID(t, resp.Response.RequestId)
			if len(resp.Response.ZoneSet) == 0 {
				t.Fatal("no zones")
			}
			sent := rec.sent[0]
			if sent.Method != w.method {
				t.Fatalf("sent %s", sent.Method)
			}
			auth := sent.Header.Get("Authorization")
			if w.authPrefix != "" {
				if !strings.HasPrefix(auth, w.authPrefix) {
					t.Fatalf("Authorization %q", auth)
				}
				return
			}
			if auth != "" {
				t.Fatalf("v1 request with an Authorization header %q", auth)
			}
			params := v1Params(t, sent)
			if params.Get("SignatureMethod") != w.sign {
				t.Fatalf("SignatureMethod %q", params.Get("SignatureMethod"))
			}
			if params.Get("Signature") == "" || params.Get("SecretId") != devSecretID || params.Get("Action") != "DescribeZones" {
				t.Fatalf("v1 parameters: %v", params)
			}
		})
	}
}

// v1Params are the v1 parameters of a recorded request: the query of a GET, the form body of a
// POST (re-read through GetBody, which net/http sets for the SDK's string body).
func v1Params(t *testing.T, req *http.Request) url.Values {
	t.Helper()
	if req.Method == "GET" {
		return req.URL.Query()
	}
	if req.GetBody == nil {
		t.Fatal("POST body cannot be re-read")
	}
	body, err := req.GetBody()
	if err != nil {
		t.Fatal(err)
	}
	defer body.Close()
	raw, err := io.ReadAll(body)
	if err != nil {
		t.Fatal(err)
	}
	v, err := url.ParseQuery(string(raw))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// A typed request with nested members (Filters.0.Values.0 on the wire) reaches tclocal
// intact over every method × signature.
func TestFiltersSurviveFlatteningOverEveryWire(t *testing.T) {
	t.Parallel()
	for _, w := range wires {
		w := w
		t.Run(w.name(), func(t *testing.T) {
			t.Parallel()
			req := cvm.NewDescribeZonesRequest()
			resp, err := cvmClient(t, shared, withMethod(w.method), withSign(w.sign)).DescribeZones(req)
			if err != nil {
				t.Fatal(err)
			}
			want := len(resp.Response.ZoneSet)
			ireq := cvm.NewDescribeInstancesRequest()
			ireq.Filters = []*cvm.Filter{{Name: common.StringPtr("zone"), Values: common.StringPtrs([]string{"ap-guangzhou-3", "ap-guangzhou-4"})}}
			ireq.Limit = common.Int64Ptr(100)
			iresp, err := cvmClient(t, shared, withMethod(w.method), withSign(w.sign)).DescribeInstances(ireq)
			if err != nil {
				t.Fatal(err)
			}
			if *iresp.Response.TotalCount != 0 || want == 0 {
				t.Fatalf("instances %s, zones %d", iresp.ToJsonString(), want)
			}
			// A filter tclocal does not know proves the filter arrived (and was read).
			ireq.Filters[0].Name = common.StringPtr("no-such-filter")
			_, err = cvmClient(t, shared, withMethod(w.method), withSign(w.sign)).DescribeInstances(ireq)
			expectCode(t, err, "InvalidFilter")
		})
	}
}

func TestUnsignedPayloadTC3IsAcceptedOverPostAndGet(t *testing.T) {
	t.Parallel()
	for _, method := range []string{"POST", "GET"} {
		rec := newRecorder()
		c := cvmClient(t, shared, withUnsignedPayload(), withMethod(method))
		c.WithHttpTransport(rec)
		resp, err := c.DescribeInstancesStatus(statusRequest())
		if err != nil {
			t.Fatalf("%s: %v", method, err)
		}
		assertRequestID(t, resp.Response.RequestId)
		if got := rec.sent[0].Header.Get("X-TC-Content-SHA256"); got != "UNSIGNED-PAYLOAD" {
			t.Fatalf("%s: X-TC-Content-SHA256 %q", method, got)
		}
	}
}

// The language reaches tclocal over v1 too (as the Language parameter).
func TestEnglishMessagesOverEverySignMethod(t *testing.T) {
	t.Parallel()
	for _, sign := range signMethods {
		_, err := cvmWith(t, shared, common.NewCredential(unknownSecretID, devSecretKey), region, withSign(sign), withLanguage("en-US")).DescribeInstancesStatus(statusRequest())
		e := expectCode(t, err, "AuthFailure.SecretIdNotFound")
		if e.GetMessage() != "The SecretId is not found, please ensure that your SecretId is correct." {
			t.Fatalf("%s: message %q", sign, e.GetMessage())
		}
	}
}

// HttpProfile.Endpoint with a port and Scheme "HTTP": the SDK signs the Host with its port,
// sends plain HTTP to it, and tclocal accepts that signature.
func TestEndpointWithPortAndSchemeHTTPIsWhereTheSDKSendsAndWhatItSigns(t *testing.T) {
	t.Parallel()
	rec := newRecorder()
	c := cvmClient(t, shared)
	c.WithHttpTransport(rec)
	if _, err := c.DescribeInstancesStatus(statusRequest()); err != nil {
		t.Fatal(err)
	}
	sent := rec.sent[0]
	if sent.URL.Scheme != "http" || sent.URL.Host != shared.endpoint() || sent.Host != shared.endpoint() {
		t.Fatalf("sent to %s (Host %s)", sent.URL, sent.Host)
	}
	if !strings.Contains(sent.Header.Get("Authorization"), "SignedHeaders=content-type;host,") {
		t.Fatalf("Authorization %q", sent.Header.Get("Authorization"))
	}
}
