package tclocal.compat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static tclocal.compat.Tclocal.*;

import com.google.gson.JsonObject;
import com.tencentcloudapi.common.CommonClient;
import com.tencentcloudapi.common.Credential;
import com.tencentcloudapi.common.profile.ClientProfile;
import com.tencentcloudapi.cvm.v20170312.CvmClient;
import com.tencentcloudapi.cvm.v20170312.models.DescribeInstancesRequest;
import com.tencentcloudapi.cvm.v20170312.models.DescribeZonesRequest;
import com.tencentcloudapi.cvm.v20170312.models.Placement;
import com.tencentcloudapi.cvm.v20170312.models.RunInstancesRequest;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Keys and temporary credentials: STS credentials ({@code new Credential(id, key, token)}, sent
 * as X-TC-Token or v1 Token) work until they expire in emulated time, then
 * AuthFailure.TokenFailure; a disabled key is AuthFailure.SecretIdNotFound. CAM and STS go
 * through the SDK's CommonClient.
 */
class IdentityTest {
  private static final String OWNER_UIN = "100000000001";
  private static final String ROOT_TRUST =
      "{\"version\":\"2.0\",\"statement\":[{\"effect\":\"allow\",\"action\":\"name/sts:AssumeRole\","
          + "\"principal\":{\"qcs\":[\"qcs::cam::uin/100000000001:root\"]}}]}";
  private static final Credential ROOT = new Credential(DEV_SECRET_ID, DEV_SECRET_KEY);

  /** Creates the CVM read-only role "reader" and assumes it: {TmpSecretId, TmpSecretKey, Token}. */
  private static String[] assumeReader(Tclocal tc, int durationS) throws Exception {
    CommonClient cam = tc.common("cam", "2019-01-16", ROOT, "");
    call(cam, "CreateRole", Map.of("RoleName", "reader", "PolicyDocument", ROOT_TRUST));
    call(cam, "AttachRolePolicy", Map.of("PolicyId", 1000012, "AttachRoleName", "reader"));
    CommonClient sts = tc.common("sts", "2018-08-13", ROOT, REGION);
    JsonObject creds = call(sts, "AssumeRole", Map.of(
            "RoleArn", "qcs::cam::uin/" + OWNER_UIN + ":roleName/reader",
            "RoleSessionName", "ci",
            "DurationSeconds", durationS))
        .getAsJsonObject("Credentials");
    String[] out = {
      creds.get("TmpSecretId").getAsString(), creds.get("TmpSecretKey").getAsString(), creds.get("Token").getAsString()
    };
    for (String s : out) {
      assertFalse(s.isEmpty());
    }
    return out;
  }

  @Test
  void assumedRoleWorksWithItsTokenUntilItExpiresThenTokenFailure() throws Exception {
    try (Tclocal tc = Tclocal.start("identity-sts")) {
      String[] t = assumeReader(tc, 600);
      CvmClient c = tc.cvm(new Credential(t[0], t[1], t[2]), REGION, tc.profile());
      assertEquals(0L, c.DescribeInstances(new DescribeInstancesRequest()).getTotalCount());
      // The token travels as v1's Token parameter too.
      CvmClient v1 = tc.cvm(new Credential(t[0], t[1], t[2]), REGION, tc.profile(pr -> {
        pr.setSignMethod(ClientProfile.SIGN_SHA256);
        pr.getHttpProfile().setReqMethod("GET");
      }));
      assertEquals(0L, v1.DescribeInstances(new DescribeInstancesRequest()).getTotalCount());
      RunInstancesRequest run = new RunInstancesRequest();
      Placement p = new Placement();
      p.setZone("ap-guangzhou-3");
      run.setPlacement(p);
      run.setInstanceType("S5.MEDIUM2");
      run.setImageId("img-zsxdft8i");
      expectCode("AuthFailure.UnauthorizedOperation", () -> c.RunInstances(run));
      tc.advanceClock(590);
      assertEquals(0L, c.DescribeInstances(new DescribeInstancesRequest()).getTotalCount());
      tc.advanceClock(11);
      expectCode("AuthFailure.TokenFailure", () -> c.DescribeInstances(new DescribeInstancesRequest()));
    }
  }

  @Test
  void temporaryKeyWithoutOrWithAWrongTokenIsTokenFailure() throws Exception {
    try (Tclocal tc = Tclocal.start("identity-token")) {
      String[] t = assumeReader(tc, 600);
      for (Credential cred : new Credential[] {new Credential(t[0], t[1]), new Credential(t[0], t[1], "forged")}) {
        for (String sign : new String[] {ClientProfile.SIGN_TC3_256, ClientProfile.SIGN_SHA1, ClientProfile.SIGN_SHA256}) {
          for (String method : new String[] {"POST", "GET"}) {
            CvmClient c = tc.cvm(cred, REGION, tc.profile(pr -> {
              pr.setSignMethod(sign);
              pr.getHttpProfile().setReqMethod(method);
            }));
            expectCode("AuthFailure.TokenFailure", () -> c.DescribeZones(new DescribeZonesRequest()));
          }
        }
      }
    }
  }

  @Test
  void keyDisabledThroughTheControlPlaneIsSecretIdNotFoundUntilEnabled() throws Exception {
    try (Tclocal tc = Tclocal.start("identity-keys")) {
      JsonObject made = tc.controlOk("POST", "/_tclocal/keys", Map.of("uin", OWNER_UIN));
      String id = made.get("SecretId").getAsString();
      CvmClient c = tc.cvm(new Credential(id, made.get("SecretKey").getAsString()), REGION, tc.profile());
      c.DescribeZones(new DescribeZonesRequest());
      tc.controlOk("POST", "/_tclocal/keys/" + id + "/disable", null);
      expectCode("AuthFailure.SecretIdNotFound", () -> c.DescribeZones(new DescribeZonesRequest()));
      tc.controlOk("POST", "/_tclocal/keys/" + id + "/enable", null);
      c.DescribeZones(new DescribeZonesRequest());
    }
  }
}
