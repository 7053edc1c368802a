package tclocal.compat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static tclocal.compat.Tclocal.*;

import com.tencentcloudapi.common.profile.ClientProfile;
import com.tencentcloudapi.cvm.v20170312.CvmClient;
import com.tencentcloudapi.cvm.v20170312.models.DescribeInstancesRequest;
import com.tencentcloudapi.cvm.v20170312.models.DescribeInstancesStatusRequest;
import com.tencentcloudapi.cvm.v20170312.models.DescribeZonesResponse;
import com.tencentcloudapi.cvm.v20170312.models.DescribeZonesRequest;
import com.tencentcloudapi.cvm.v20170312.models.Filter;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Every HTTP method × signature the SDK offers, the endpoint, and unsigned payloads. */
class SigningTest {
  private final Tclocal tc = Tclocal.shared();

  private CvmClient client(String method, String sign, Recorder rec) {
    return tc.cvm(p -> {
      p.setSignMethod(sign);
      p.getHttpProfile().setReqMethod(method);
      if (rec != null) {
        p.getHttpProfile().setHttpClient(rec.client());
      }
    });
  }

  /** v1 parameters: the query of a GET, the form body of a POST. */
  private static Map<String, String> v1Params(Recorder.Exchange x) {
    String raw = x.request().method().equals("GET") ? x.request().url().encodedQuery() : x.body();
    Map<String, String> out = new HashMap<>();
    for (String kv : raw.split("&")) {
      String[] p = kv.split("=", 2);
      out.put(URLDecoder.decode(p[0], StandardCharsets.UTF_8),
          p.length > 1 ? URLDecoder.decode(p[1], StandardCharsets.UTF_8) : "");
    }
    return out;
  }

  @ParameterizedTest
  @CsvSource({
    "POST, TC3-HMAC-SHA256", "GET, TC3-HMAC-SHA256",
    "POST, HmacSHA1", "GET, HmacSHA1",
    "POST, HmacSHA256", "GET, HmacSHA256",
  })
  void everySignatureAndHttpMethodOfTheSdkIsAccepted(String method, String sign) throws Exception {
    Recorder rec = new Recorder();
    DescribeZonesResponse resp = client(method, sign, rec).DescribeZones(new DescribeZonesRequest());
    assertRequestId(resp.getRequestId());
    assertTrue(resp.getZoneSet().length > 0);
    Recorder.Exchange x = rec.only();
    assertEquals(method, x.request().method());
    String auth = x.request().header("Authorization");
    if (sign.equals(ClientProfile.SIGN_TC3_256)) {
      assertTrue(auth.startsWith("TC3-HMAC-SHA256 Credential=" + DEV_SECRET_ID + "/"), auth);
    } else {
      assertNull(auth, "a v1 request with an Authorization header");
      Map<String, String> params = v1Params(x);
      assertEquals(sign, params.get("SignatureMethod"), params.toString());
      assertEquals(DEV_SECRET_ID, params.get("SecretId"));
      assertEquals("DescribeZones", params.get("Action"));
      assertTrue(!params.getOrDefault("Signature", "").isEmpty(), params.toString());
    }
  }

  /** A typed request with nested members (Filters.0.Values.0 on the wire) arrives intact. */
  @ParameterizedTest
  @CsvSource({"POST, TC3-HMAC-SHA256", "GET, TC3-HMAC-SHA256", "POST, HmacSHA1", "GET, HmacSHA256"})
  void filtersSurviveFlatteningOverEveryWire(String method, String sign) throws Exception {
    Filter f = new Filter();
    f.setName("zone");
    f.setValues(new String[] {"ap-guangzhou-3", "ap-guangzhou-4"});
    DescribeInstancesRequest req = new DescribeInstancesRequest();
    req.setFilters(new Filter[] {f});
    req.setLimit(100L);
    assertEquals(0L, client(method, sign, null).DescribeInstances(req).getTotalCount());
    // A filter tclocal does not know proves the filter arrived and was read.
    f.setName("no-such-filter");
    expectCode("InvalidFilter", () -> client(method, sign, null).DescribeInstances(req));
  }

  @Test
  void unsignedPayloadTc3IsAccepted() throws Exception {
    Recorder rec = new Recorder();
    CvmClient c = tc.cvm(p -> {
      p.setUnsignedPayload(true);
      p.getHttpProfile().setHttpClient(rec.client());
    });
    assertRequestId(c.DescribeInstancesStatus(new DescribeInstancesStatusRequest()).getRequestId());
    assertEquals("UNSIGNED-PAYLOAD", rec.only().request().header("X-TC-Content-SHA256"));
  }

  /**
   * HttpProfile endpoint with a port and protocol "http://": the SDK sends plain HTTP there and
   * signs the Host with its port, which tclocal accepts.
   */
  @Test
  void endpointWithPortAndHttpProtocolIsWhereTheSdkSends() throws Exception {
    Recorder rec = new Recorder();
    CvmClient c = tc.cvm(p -> p.getHttpProfile().setHttpClient(rec.client()));
    c.DescribeInstancesStatus(new DescribeInstancesStatusRequest());
    Recorder.Exchange x = rec.only();
    assertEquals("http", x.request().url().scheme());
    assertEquals(tc.port, x.request().url().port());
    assertEquals("127.0.0.1", x.request().url().host());
  }
}
