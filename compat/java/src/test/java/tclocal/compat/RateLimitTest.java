package tclocal.compat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static tclocal.compat.Tclocal.*;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.tencentcloudapi.common.exception.TencentCloudSDKException;
import com.tencentcloudapi.cvm.v20170312.CvmClient;
import com.tencentcloudapi.cvm.v20170312.models.DescribeInstancesStatusRequest;
import com.tencentcloudapi.cvm.v20170312.models.DescribeRegionsRequest;
import com.tencentcloudapi.cvm.v20170312.models.DescribeZonesRequest;
import com.tencentcloudapi.cvm.v20170312.models.DescribeZonesResponse;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Rate limits ({@code --rate-limit DescribeZones=2}: two calls per account and wall-clock second)
 * and the Java SDK's only retry: {@code AbstractClient.retry(request, times)}, which calls the
 * action again after a fixed 1 s pause on any exception (the SDK has no backoff setting and no
 * RequestLimitExceeded-specific retry, unlike the Go and Python SDKs).
 */
class RateLimitTest {
  private static void nextSecond() throws InterruptedException {
    long now = System.currentTimeMillis();
    Thread.sleep(1000 - now % 1000 + 30);
  }

  /** Codes of the newest {@code n} journal entries of {@code action}, oldest first. */
  private static List<String> codes(Tclocal tc, String action, int n) {
    JsonArray entries = tc.controlOk("GET", "/_tclocal/requests?action=" + action + "&limit=" + n, null)
        .getAsJsonArray("requests");
    List<String> out = new ArrayList<>();
    for (JsonElement e : entries) {
      JsonElement code = e.getAsJsonObject().get("code");
      out.add(code.isJsonNull() ? "ok" : code.getAsString());
    }
    Collections.reverse(out);
    return out;
  }

  @Test
  void thirdCallInOneSecondIsRequestLimitExceeded() throws Exception {
    try (Tclocal tc = Tclocal.start("rate-limit", "--rate-limit", "DescribeZones=2")) {
      CvmClient c = tc.cvm();
      nextSecond();
      c.DescribeZones(new DescribeZonesRequest());
      c.DescribeZones(new DescribeZonesRequest());
      expectCode("RequestLimitExceeded", () -> c.DescribeZones(new DescribeZonesRequest()));
      // Other actions have no limit.
      for (int i = 0; i < 3; i++) {
        c.DescribeRegions(new DescribeRegionsRequest());
      }
    }
  }

  @Test
  void sdkRetryCallsAgainAfterOneSecondAndTheRetryInTheNextSecondSucceeds() throws Exception {
    try (Tclocal tc = Tclocal.start("rate-limit-retry", "--rate-limit", "DescribeZones=2")) {
      CvmClient c = tc.cvm();
      nextSecond();
      c.DescribeZones(new DescribeZonesRequest());
      c.DescribeZones(new DescribeZonesRequest());
      DescribeZonesResponse resp = (DescribeZonesResponse) c.retry(new DescribeZonesRequest(), 2);
      assertEquals(List.of("ok", "ok", "RequestLimitExceeded", "ok"), codes(tc, "DescribeZones", 4));
      assertEquals(true, tc.journal(resp.getRequestId()).get("code").isJsonNull());
    }
  }

  @Test
  void sdkRetryWithZeroTimesThrowsTheRequestLimitExceeded() throws Exception {
    try (Tclocal tc = Tclocal.start("rate-limit-no-retry", "--rate-limit", "DescribeZones=2")) {
      CvmClient c = tc.cvm();
      nextSecond();
      c.DescribeZones(new DescribeZonesRequest());
      c.DescribeZones(new DescribeZonesRequest());
      TencentCloudSDKException e = expectCode("RequestLimitExceeded", () -> c.retry(new DescribeZonesRequest(), 0));
      assertEquals("RequestLimitExceeded", tc.journal(e.getRequestId()).get("code").getAsString());
      assertEquals(List.of("ok", "ok", "RequestLimitExceeded"), codes(tc, "DescribeZones", 3));
    }
  }

  /** Pinned SDK behaviour: retry() retries every error, even one no retry can fix. */
  @Test
  void sdkRetryAlsoRetriesAnInvalidParameterValue() {
    Tclocal tc = Tclocal.shared();
    CvmClient c = tc.cvm();
    DescribeInstancesStatusRequest req = new DescribeInstancesStatusRequest();
    req.setLimit(101L);
    TencentCloudSDKException e = expectCode("InvalidParameterValue", () -> c.retry(req, 1));
    long sameErrorWithinTwoSeconds = tc.controlOk("GET",
            "/_tclocal/requests?action=DescribeInstancesStatus&code=InvalidParameterValue&limit=100"
                + "&since=" + (System.currentTimeMillis() - 3000), null)
        .getAsJsonArray("requests").size();
    assertEquals(true, sameErrorWithinTwoSeconds >= 2, "one call and one retry: " + sameErrorWithinTwoSeconds);
    assertRequestId(e.getRequestId());
  }
}
