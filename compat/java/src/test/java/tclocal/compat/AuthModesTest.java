package tclocal.compat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static tclocal.compat.Tclocal.*;

import com.tencentcloudapi.common.Credential;
import com.tencentcloudapi.common.profile.ClientProfile;
import com.tencentcloudapi.cvm.v20170312.CvmClient;
import com.tencentcloudapi.cvm.v20170312.models.DescribeInstancesStatusRequest;
import com.tencentcloudapi.cvm.v20170312.models.DescribeInstancesStatusResponse;
import okhttp3.Interceptor;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import org.junit.jupiter.api.Test;

/** --auth off / soft and the timestamp window (--max-skew). */
class AuthModesTest {
  @Test
  void authOffAcceptsAWrongSecretKeyButStillValidatesParameters() throws Exception {
    try (Tclocal tc = Tclocal.start("auth-off", "--auth", "off")) {
      for (String sign : new String[] {ClientProfile.SIGN_TC3_256, ClientProfile.SIGN_SHA1, ClientProfile.SIGN_SHA256}) {
        CvmClient c = tc.cvm(new Credential(DEV_SECRET_ID, WRONG_SECRET_KEY), REGION,
            tc.profile(p -> p.setSignMethod(sign)));
        DescribeInstancesStatusResponse resp = c.DescribeInstancesStatus(new DescribeInstancesStatusRequest());
        assertEquals(0L, resp.getTotalCount(), sign);
        assertRequestId(resp.getRequestId());
      }
      DescribeInstancesStatusRequest req = new DescribeInstancesStatusRequest();
      req.setLimit(101L);
      CvmClient c = tc.cvm(new Credential(DEV_SECRET_ID, WRONG_SECRET_KEY), REGION, tc.profile());
      expectCode("InvalidParameterValue", () -> c.DescribeInstancesStatus(req));
    }
  }

  @Test
  void authSoftServesAWrongSignatureAndJournalsTheFailure() throws Exception {
    try (Tclocal tc = Tclocal.start("auth-soft", "--auth", "soft")) {
      CvmClient c = tc.cvm(new Credential(DEV_SECRET_ID, WRONG_SECRET_KEY), REGION, tc.profile());
      String id = c.DescribeInstancesStatus(new DescribeInstancesStatusRequest()).getRequestId();
      assertTrue(tc.journal(id).get("auth").getAsString().contains("AuthFailure.SignatureFailure"));
    }
  }

  /**
   * Moves X-TC-Timestamp by {@code skewS} on the way out. The SDK takes the time from the system
   * clock and offers no other; the signature no longer matches either, but tclocal checks the
   * timestamp first, as the cloud does.
   */
  private static OkHttpClient skewed(long skewS) {
    Interceptor shift = chain -> {
      Request r = chain.request();
      String ts = r.header("X-TC-Timestamp");
      return chain.proceed(r.newBuilder().header("X-TC-Timestamp", String.valueOf(Long.parseLong(ts) + skewS)).build());
    };
    return new OkHttpClient.Builder().addInterceptor(shift).proxy(java.net.Proxy.NO_PROXY).build();
  }

  @Test
  void timestampOutsideMaxSkewIsSignatureExpireAndCheckedBeforeTheSecretId() {
    Tclocal tc = Tclocal.shared();
    for (long skew : new long[] {-3600, -420, 420, 3600}) {
      CvmClient c = tc.cvm(p -> p.getHttpProfile().setHttpClient(skewed(skew)));
      expectCode("AuthFailure.SignatureExpire", () -> c.DescribeInstancesStatus(new DescribeInstancesStatusRequest()));
    }
    CvmClient unknown = tc.cvm(new Credential(UNKNOWN_SECRET_ID, DEV_SECRET_KEY), REGION,
        tc.profile(p -> p.getHttpProfile().setHttpClient(skewed(-3600))));
    expectCode("AuthFailure.SignatureExpire", () -> unknown.DescribeInstancesStatus(new DescribeInstancesStatusRequest()));
  }

  @Test
  void maxSkewFlagTightensTheTimestampWindow() {
    try (Tclocal tc = Tclocal.start("max-skew-60", "--max-skew", "60")) {
      CvmClient c = tc.cvm(p -> p.getHttpProfile().setHttpClient(skewed(-120)));
      expectCode("AuthFailure.SignatureExpire", () -> c.DescribeInstancesStatus(new DescribeInstancesStatusRequest()));
    }
    // The same two minutes are inside the default 300 s: the (now wrong) signature is checked.
    CvmClient c = Tclocal.shared().cvm(p -> p.getHttpProfile().setHttpClient(skewed(-120)));
    expectCode("AuthFailure.SignatureFailure", () -> c.DescribeInstancesStatus(new DescribeInstancesStatusRequest()));
  }
}
