package compat

// HttpProfile.RootDomain, and transparent mode (`tclocal serve --tls`).
//
// With RootDomain the SDK builds the host itself (`cvm.` + RootDomain), so reaching loopback
// needs either DNS (which tests must not use) or a proxy. Two ways are covered:
//   - in this process, HttpProfile.Proxy pointed at tclocal with Scheme "HTTP": the SDK sends
//     `POST http://cvm.<RootDomain>/` to the proxy, which tclocal serves itself;
//   - in a child process whose environment is only what `tclocal env` prints (HTTPS_PROXY,
//     SSL_CERT_FILE, TENCENTCLOUD_SECRET_ID/KEY): the SDK left at its defaults (HTTPS,
//     cvm.tencentcloudapi.com, credentials from the environment) tunnels through tclocal with
//     CONNECT and verifies tclocal's certificate against `tclocal ca`'s CA, as Go's crypto/x509
//     reads SSL_CERT_FILE.
// Neither resolves a name: the proxy is 127.0.0.1, and both processes refuse DNS (noDNS).

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/profile"
	cvm "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/cvm/v20170312"
)

// childCall is what a child process is asked to do (JSON in the childEnv variable).
type childCall struct {
	Method     string `json:"method"`
	RootDomain string `json:"root_domain"`
	Endpoint   string `json:"endpoint"`
	Action     string `json:"action"`
}

// childMain runs one SDK call with a default profile and prints the answer as JSON; an error
// goes to stderr with exit code 1.
func childMain() int {
	noDNS()
	var call childCall
	if err := json.Unmarshal([]byte(os.Getenv(childEnv)), &call); err != nil {
		fmt.Fprintln(os.Stderr, "bad child call:", err)
		return 2
	}
	cred, err := common.DefaultEnvProvider().GetCredential()
	if err != nil {
		fmt.Fprintln(os.Stderr, "credentials from the environment:", err)
		return 2
	}
	p := profile.NewClientProfile()
	p.HttpProfile.ReqMethod = call.Method
	p.HttpProfile.RootDomain = call.RootDomain
	p.HttpProfile.Endpoint = call.Endpoint
	p.HttpProfile.ReqTimeout = 15
	p.DisableRegionBreaker = true
	c, err := cvm.NewClient(cred, os.Getenv("TENCENTCLOUD_REGION"), p)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	var out string
	switch call.Action {
	case "DescribeZones":
		resp, err := c.DescribeZones(cvm.NewDescribeZonesRequest())
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		out = resp.ToJsonString()
	default:
		resp, err := c.DescribeInstancesStatus(cvm.NewDescribeInstancesStatusRequest())
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		out = resp.ToJsonString()
	}
	fmt.Println(out)
	return 0
}

// caDir makes a CA with `tclocal ca` for one test.
func caDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	out, err := exec.Command(binary(), "ca", "--ca-dir", dir).CombinedOutput()
	if err != nil {
		t.Fatalf("tclocal ca: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), filepath.Join(dir, "ca.pem")) {
		t.Fatalf("tclocal ca did not name %s/ca.pem:\n%s", dir, out)
	}
	return dir
}

// tclocalEnv is what `tclocal env --format dotenv` prints for s.
func tclocalEnv(t *testing.T, s *server, ca string) map[string]string {
	t.Helper()
	cmd := exec.Command(binary(), "env", "--format", "dotenv", "--listen", s.endpoint(), "--ca-dir", ca)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "TCLOCAL_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("tclocal env: %v", err)
	}
	vars := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			t.Fatalf("tclocal env line %q", line)
		}
		vars[k] = v
	}
	return vars
}

// runChild re-executes this test binary as a client whose environment is PATH, HOME and vars.
func runChild(t *testing.T, vars map[string]string, call childCall) (stdout, stderr string, err error) {
	t.Helper()
	spec, _ := json.Marshal(call)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), childEnv + "=" + string(spec)}
	for k, v := range vars {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	done := make(chan error, 1)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { done <- cmd.Wait() }()
	select {
	case err = <-done:
	case <-time.After(60 * time.Second):
		_ = cmd.Process.Kill()
		err = <-done
	}
	return o.String(), e.String(), err
}

func TestTclocalEnvGivesTheGoSDKEverythingForTheDefaultEndpointOverHTTPS(t *testing.T) {
	t.Parallel()
	ca := caDir(t)
	s := serve(t, "tls", "--tls", "--ca-dir", ca)
	vars := tclocalEnv(t, s, ca)
	if vars["HTTPS_PROXY"] != s.url() || vars["SSL_CERT_FILE"] != filepath.Join(ca, "ca.pem") {
		t.Fatalf("tclocal env: %v", vars)
	}
	for _, method := range []string{"POST", "GET"} {
		out, errOut, err := runChild(t, vars, childCall{Method: method})
		if err != nil {
			t.Fatalf("%s: %v\n%s", method, err, errOut)
		}
		var resp cvm.DescribeInstancesStatusResponse
		if err := json.Unmarshal([]byte(out), &resp); err != nil {
			t.Fatalf("%s: %v: %s", method, err, out)
		}
		if *resp.Response.TotalCount != 0 {
			t.Fatalf("%s: %s", method, out)
		}
		entry := journal(t, s, *resp.Response.RequestId)
		if entry["service"] != "cvm" || entry["action"] != "DescribeInstancesStatus" || entry["method"] != method {
			t.Fatalf("%s: journal %v", method, entry)
		}
	}
}

func TestRootDomainOverHTTPSReachesTclocalThroughTheTransparentProxy(t *testing.T) {
	t.Parallel()
	ca := caDir(t)
	s := serve(t, "tls-root-domain", "--tls", "--ca-dir", ca)
	out, errOut, err := runChild(t, tclocalEnv(t, s, ca), childCall{Method: "POST", RootDomain: "ap-guangzhou.tencentcloudapi.com", Action: "DescribeZones"})
	if err != nil {
		t.Fatalf("%v\n%s", err, errOut)
	}
	var resp cvm.DescribeZonesResponse
	if err := json.Unmarshal([]byte(out), &resp); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if len(resp.Response.ZoneSet) == 0 {
		t.Fatalf("no zones: %s", out)
	}
}

// Pinned behaviour: the CA is what makes HTTPS work. Without SSL_CERT_FILE Go refuses
// tclocal's certificate.
func TestWithoutTclocalsCAGoRefusesTheCertificate(t *testing.T) {
	t.Parallel()
	ca := caDir(t)
	s := serve(t, "tls-no-ca", "--tls", "--ca-dir", ca)
	vars := tclocalEnv(t, s, ca)
	// The system's roots then apply, and they cannot hold a CA made a moment ago.
	delete(vars, "SSL_CERT_FILE")
	_, errOut, err := runChild(t, vars, childCall{Method: "POST"})
	if err == nil {
		t.Fatal("the call succeeded without tclocal's CA")
	}
	if !strings.Contains(errOut, "ClientError.NetworkError") || !strings.Contains(errOut, "certificate") {
		t.Fatalf("stderr: %s", errOut)
	}
}

// RootDomain in this process: HttpProfile.Proxy and Scheme "HTTP" send the request for
// `cvm.<RootDomain>` to tclocal as a plain proxy request.
func TestRootDomainWithHttpProfileProxyAndSchemeHTTPReachesTclocal(t *testing.T) {
	t.Parallel()
	ca := caDir(t)
	s := serve(t, "proxy-root-domain", "--tls", "--ca-dir", ca)
	for _, root := range []string{"tencentcloudapi.com", "ap-guangzhou.tencentcloudapi.com", "intl.tencentcloudapi.com"} {
		p := newProfile(s, withEndpoint(""))
		p.HttpProfile.RootDomain = root
		p.HttpProfile.Proxy = s.url()
		c, err := cvm.NewClient(common.NewCredential(devSecretID, devSecretKey), region, p)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := c.DescribeInstancesStatus(statusRequest())
		if err != nil {
			t.Fatalf("RootDomain %s: %v", root, err)
		}
		entry := journal(t, s, *resp.Response.RequestId)
		if entry["service"] != "cvm" || entry["auth"] != "verified" {
			t.Fatalf("RootDomain %s: journal %v", root, entry)
		}
	}
}

// The host really comes from RootDomain: one that is not a Tencent Cloud API domain is
// refused by tclocal's proxy (HTTP 403), which the SDK reports as a client error.
func TestRootDomainOutsideTencentCloudIsRefusedByTheProxy(t *testing.T) {
	t.Parallel()
	ca := caDir(t)
	s := serve(t, "proxy-root-domain-refused", "--tls", "--ca-dir", ca)
	p := newProfile(s, withEndpoint(""))
	p.HttpProfile.RootDomain = "example.com"
	p.HttpProfile.Proxy = s.url()
	c, err := cvm.NewClient(common.NewCredential(devSecretID, devSecretKey), region, p)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.DescribeInstancesStatus(statusRequest())
	if err == nil || !strings.Contains(err.Error(), "refuses to proxy to cvm.example.com") {
		t.Fatalf("expected the proxy's refusal, got %v", err)
	}
}

// The guard every test relies on: a name that is not in /etc/hosts is never looked up.
func TestNameLookupsOutsideHostsFileAreRefusedWithoutAQuery(t *testing.T) {
	t.Parallel()
	_, err := net.DefaultResolver.LookupHost(context.Background(), "cvm.tencentcloudapi.com")
	if err == nil || !strings.Contains(err.Error(), "no DNS queries in tests") {
		t.Fatalf("lookup was not refused by the test resolver: %v", err)
	}
}
