// Package compat drives tclocal with the official Tencent Cloud SDK for Go
// (github.com/tencentcloud/tencentcloud-sdk-go, the common and cvm modules) and asserts what a
// user of that SDK sees: typed answers, *errors.TencentCloudSDKError with the exact code, and
// RequestIds.
//
// TestMain starts one `tclocal serve --ephemeral` on a free 127.0.0.1 port that most tests
// share; tests that change state or need other flags start their own. The binary is
// $TCLOCAL_BIN, else <repo>/target/debug/tclocal. No request leaves loopback: proxies from the
// environment are dropped, and name lookups other than /etc/hosts fail (see noDNS).
package compat

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	tcerr "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/errors"
	tchttp "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/http"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/profile"
	cvm "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/cvm/v20170312"
)

// The default account's development key (README "Development credentials").
const (
	devSecretID  = "AKIDtclocalDevelopmentKey00000000000"
	devSecretKey = "tclocalDevelopmentSecretKey00000"
	// Key-shaped (AKID + 32 alphanumerics) but never issued by tclocal.
	unknownSecretID = "AKIDZz9Yy8Xx7Ww6Vv5Uu4Tt3Ss2Rr1Qq0Pp"
	wrongSecretKey  = "wwwwwwwwwwwwwwwwwwwwwwwwwwwwwwww"
	region          = "ap-guangzhou"
	cvmVersion      = "2017-03-12"
	healthTimeout   = 10 * time.Second
)

var uuid4 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// shared is the default server (--auth strict, zh-CN, --max-skew 300) that read-only tests use.
var shared *server

// childEnv is set in the environment of a child process this test binary re-executes to run
// one SDK call in an environment built from nothing (see transparent_test.go).
const childEnv = "TCLOCAL_GO_COMPAT_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		os.Exit(childMain())
	}
	// Requests to 127.0.0.1 must never go through a proxy from the environment.
	for _, v := range []string{"HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"} {
		os.Unsetenv(v)
	}
	noDNS()
	bin := binary()
	if _, err := os.Stat(bin); err != nil {
		fmt.Fprintf(os.Stderr, "tclocal binary not found at %s (build it, or set TCLOCAL_BIN)\n", bin)
		os.Exit(3)
	}
	logDir, err := os.MkdirTemp("", "tclocal-go-compat-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	s, err := start(logDir, "default", nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	shared = s
	code := m.Run()
	s.stop()
	if code == 0 {
		os.RemoveAll(logDir)
	}
	os.Exit(code)
}

// noDNS makes every DNS query of this process fail at once, so a client that tried to reach
// a real host by name would fail instead of leaving the machine. /etc/hosts still answers.
func noDNS() {
	net.DefaultResolver = &net.Resolver{
		PreferGo: true,
		Dial: func(ctx context.Context, network, address string) (net.Conn, error) {
			return nil, errors.New("tclocal-go-compat: no DNS queries in tests")
		},
	}
}

func binary() string {
	if b := os.Getenv("TCLOCAL_BIN"); b != "" {
		return b
	}
	wd, _ := os.Getwd()
	return filepath.Join(wd, "..", "..", "target", "debug", "tclocal")
}

// server is one running `tclocal serve`.
type server struct {
	name    string
	port    int
	logPath string
	cmd     *exec.Cmd
	logFile *os.File
	waited  chan struct{}
}

// endpoint is `127.0.0.1:PORT`, as given to HttpProfile.Endpoint.
func (s *server) endpoint() string { return fmt.Sprintf("127.0.0.1:%d", s.port) }
func (s *server) url() string      { return "http://" + s.endpoint() }

func (s *server) logTail() string {
	b, err := os.ReadFile(s.logPath)
	if err != nil {
		return "<no log>"
	}
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

func (s *server) stop() {
	select {
	case <-s.waited:
	default:
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.waited:
		case <-time.After(5 * time.Second):
			_ = s.cmd.Process.Kill()
			<-s.waited
		}
	}
	s.logFile.Close()
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func healthy(port int) bool {
	c := http.Client{Timeout: time.Second}
	resp, err := c.Get(fmt.Sprintf("http://127.0.0.1:%d/_tclocal/health", port))
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// start runs `tclocal serve --ephemeral --listen 127.0.0.1:<free port> args...` and waits for
// its health check; a port taken in between is retried on another one.
func start(logDir, name string, args []string) (*server, error) {
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		logPath := filepath.Join(logDir, fmt.Sprintf("tclocal-%s-%d.log", name, port))
		logFile, err := os.Create(logPath)
		if err != nil {
			return nil, err
		}
		full := append([]string{"serve", "--ephemeral", "--listen", fmt.Sprintf("127.0.0.1:%d", port)}, args...)
		cmd := exec.Command(binary(), full...)
		cmd.Stdout, cmd.Stderr = logFile, logFile
		// A stray TCLOCAL_AUTH=off or TCLOCAL_SECRET_KEY would change what is tested.
		for _, kv := range os.Environ() {
			if !strings.HasPrefix(kv, "TCLOCAL_") {
				cmd.Env = append(cmd.Env, kv)
			}
		}
		if err := cmd.Start(); err != nil {
			logFile.Close()
			return nil, err
		}
		s := &server{name: name, port: port, logPath: logPath, cmd: cmd, logFile: logFile, waited: make(chan struct{})}
		go func() { _ = cmd.Wait(); close(s.waited) }()
		deadline := time.Now().Add(healthTimeout)
		for time.Now().Before(deadline) {
			if healthy(port) {
				return s, nil
			}
			select {
			case <-s.waited:
				deadline = time.Now()
			case <-time.After(50 * time.Millisecond):
			}
		}
		s.stop()
		lastErr = fmt.Errorf("tclocal %v not healthy within %s; log:\n%s", full, healthTimeout, s.logTail())
		if !strings.Contains(strings.ToLower(s.logTail()), "in use") {
			break
		}
	}
	return nil, lastErr
}

// serve starts a server of the test's own, stopped when the test ends.
func serve(t *testing.T, name string, args ...string) *server {
	t.Helper()
	s, err := start(t.TempDir(), name, args)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("tclocal %s log tail:\n%s", name, s.logTail())
		}
		s.stop()
	})
	return s
}

// control calls the control plane (`/_tclocal/...`) and decodes its JSON answer.
func control(t *testing.T, s *server, method, path string, body any) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, s.url()+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	out := map[string]any{}
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &out); err != nil {
			t.Fatalf("%s %s: not JSON: %s", method, path, raw)
		}
	}
	return resp.StatusCode, out
}

// advanceClock moves emulated time forward; signatures keep being checked against wall time.
func advanceClock(t *testing.T, s *server, seconds int) {
	t.Helper()
	status, body := control(t, s, "POST", fmt.Sprintf("/_tclocal/clock/advance?seconds=%d", seconds), nil)
	if status != 200 {
		t.Fatalf("clock advance: %d %v", status, body)
	}
}

// journal is the control plane's record of one request.
func journal(t *testing.T, s *server, requestID string) map[string]any {
	t.Helper()
	status, entry := control(t, s, "GET", "/_tclocal/requests/"+requestID, nil)
	if status != 200 {
		t.Fatalf("journal entry %s: %d %v", requestID, status, entry)
	}
	return entry
}

// opts adjusts a client profile built by newProfile.
type opts func(*profile.ClientProfile)

func withMethod(m string) opts   { return func(p *profile.ClientProfile) { p.HttpProfile.ReqMethod = m } }
func withSign(m string) opts     { return func(p *profile.ClientProfile) { p.SignMethod = m } }
func withLanguage(l string) opts { return func(p *profile.ClientProfile) { p.Language = l } }
func withUnsignedPayload() opts  { return func(p *profile.ClientProfile) { p.UnsignedPayload = true } }
func withEndpoint(e string) opts {
	return func(p *profile.ClientProfile) { p.HttpProfile.Endpoint = e }
}
func withRateLimitRetries(n int, d time.Duration) opts {
	return func(p *profile.ClientProfile) {
		p.RateLimitExceededMaxRetries = n
		p.RateLimitExceededRetryDuration = profile.ConstantDurationFunc(d)
	}
}

// newProfile points a profile at s over plain HTTP, as a user of a local endpoint writes it.
func newProfile(s *server, o ...opts) *profile.ClientProfile {
	p := profile.NewClientProfile()
	p.HttpProfile.Endpoint = s.endpoint()
	p.HttpProfile.Scheme = "HTTP"
	p.HttpProfile.ReqTimeout = 15
	// The default today, set so that an SDK upgrade cannot send a failing client to the
	// backup endpoint (a real host).
	p.DisableRegionBreaker = true
	for _, f := range o {
		f(p)
	}
	return p
}

func cvmWith(t *testing.T, s *server, cred common.CredentialIface, reg string, o ...opts) *cvm.Client {
	t.Helper()
	c, err := cvm.NewClient(cred, reg, newProfile(s, o...))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// cvmClient is the typed CVM client with the development key in ap-guangzhou.
func cvmClient(t *testing.T, s *server, o ...opts) *cvm.Client {
	return cvmWith(t, s, common.NewCredential(devSecretID, devSecretKey), region, o...)
}

// commonClient is the SDK's generic client, for products without a typed module here.
func commonClient(s *server, cred common.CredentialIface, reg string, o ...opts) *common.Client {
	return common.NewCommonClient(cred, reg, newProfile(s, o...))
}

// callJSON sends one action through the generic client and decodes `Response`.
func callJSON(c *common.Client, service, version, action string, params map[string]any) (map[string]any, error) {
	req := tchttp.NewCommonRequest(service, version, action)
	if params == nil {
		params = map[string]any{}
	}
	if err := req.SetActionParameters(params); err != nil {
		return nil, err
	}
	resp := tchttp.NewCommonResponse()
	if err := c.Send(req, resp); err != nil {
		return nil, err
	}
	var doc struct {
		Response map[string]any `json:"Response"`
	}
	if err := json.Unmarshal(resp.GetBody(), &doc); err != nil {
		return nil, err
	}
	return doc.Response, nil
}

func statusRequest() *cvm.DescribeInstancesStatusRequest {
	return cvm.NewDescribeInstancesStatusRequest()
}

func assertRequestID(t *testing.T, id *string) {
	t.Helper()
	if id == nil {
		t.Fatal("no RequestId")
	}
	if !uuid4.MatchString(*id) {
		t.Fatalf("RequestId is not a lowercase UUID v4: %q", *id)
	}
}

// expectCode asserts err is the SDK's *errors.TencentCloudSDKError with exactly code, a
// message and a UUID v4 RequestId, and returns it.
func expectCode(t *testing.T, err error, code string) *tcerr.TencentCloudSDKError {
	t.Helper()
	if err == nil {
		t.Fatalf("expected error %s, the call succeeded", code)
	}
	var sdkErr *tcerr.TencentCloudSDKError
	if !errors.As(err, &sdkErr) {
		t.Fatalf("expected *errors.TencentCloudSDKError %s, got %T: %v", code, err, err)
	}
	if sdkErr.GetCode() != code {
		t.Fatalf("expected code %q, got %s", code, sdkErr.Error())
	}
	if sdkErr.GetMessage() == "" {
		t.Fatalf("empty Error.Message: %s", sdkErr.Error())
	}
	if !uuid4.MatchString(sdkErr.GetRequestId()) {
		t.Fatalf("RequestId of the error is not a UUID v4: %s", sdkErr.Error())
	}
	return sdkErr
}

// codeOf is the SDK error code of err, "ok" for nil.
func codeOf(err error) string {
	if err == nil {
		return "ok"
	}
	var sdkErr *tcerr.TencentCloudSDKError
	if errors.As(err, &sdkErr) {
		return sdkErr.GetCode()
	}
	return err.Error()
}

// recorder is an http.RoundTripper that keeps what the SDK sent and what came back.
type recorder struct {
	inner http.RoundTripper
	mu    sync.Mutex
	sent  []*http.Request
	got   []*http.Response
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := r.inner.RoundTrip(req)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sent = append(r.sent, req)
	if err == nil {
		r.got = append(r.got, resp)
	}
	return resp, err
}

func newRecorder() *recorder {
	return &recorder{inner: &http.Transport{Proxy: nil, DisableKeepAlives: true}}
}
