package tclocal.compat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static tclocal.compat.Tclocal.*;

import com.tencentcloudapi.common.CommonClient;
import com.tencentcloudapi.common.Credential;
import com.tencentcloudapi.common.exception.TencentCloudSDKException;
import com.tencentcloudapi.common.profile.ClientProfile;
import com.tencentcloudapi.common.profile.HttpProfile;
import com.tencentcloudapi.common.profile.Language;
import com.tencentcloudapi.cvm.v20170312.CvmClient;
import com.tencentcloudapi.cvm.v20170312.models.DescribeInstancesOperationLimitRequest;
import com.tencentcloudapi.cvm.v20170312.models.DescribeInstancesStatusRequest;
import com.tencentcloudapi.cvm.v20170312.models.StartInstancesRequest;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/** Common error codes as the SDK's TencentCloudSDKException: getErrorCode, getMessage, getRequestId. */
class ErrorsTest {
  private final Tclocal tc = Tclocal.shared();

  private CvmClient cvm(String secretId, String secretKey, String region, String sign, String method) {
    return tc.cvm(new Credential(secretId, secretKey), region,
        tc.profile(p -> {
          p.setSignMethod(sign);
          p.getHttpProfile().setReqMethod(method);
        }));
  }

  private static DescribeInstancesStatusRequest status() {
    return new DescribeInstancesStatusRequest();
  }

  @ParameterizedTest
  @ValueSource(strings = {ClientProfile.SIGN_TC3_256, ClientProfile.SIGN_SHA1, ClientProfile.SIGN_SHA256})
  void wrongSecretKeyIsSignatureFailureOverPostAndGet(String sign) {
    for (String method : new String[] {HttpProfile.REQ_POST, HttpProfile.REQ_GET}) {
      CvmClient c = cvm(DEV_SECRET_ID, WRONG_SECRET_KEY, REGION, sign, method);
      TencentCloudSDKException e =
          expectCode("AuthFailure.SignatureFailure", () -> c.DescribeInstancesStatus(status()));
      assertEquals("AuthFailure.SignatureFailure",
          tc.journal(e.getRequestId()).get("code").getAsString());
    }
  }

  @Test
  void exceptionCarriesTheEnglishMessageAndItsToStringNamesCodeAndRequestId() {
    CvmClient c = tc.cvm(new Credential(DEV_SECRET_ID, WRONG_SECRET_KEY), REGION,
        tc.profile(p -> p.setLanguage(Language.EN_US)));
    TencentCloudSDKException e =
        expectCode("AuthFailure.SignatureFailure", () -> c.DescribeInstancesStatus(status()));
    assertEquals(
        "The provided credentials could not be validated. Please check your signature is correct.",
        e.getMessage());
    assertTrue(e.toString().contains(e.getRequestId()), e.toString());
    assertTrue(e.toString().contains("AuthFailure.SignatureFailure"), e.toString());
  }

  @ParameterizedTest
  @ValueSource(strings = {ClientProfile.SIGN_TC3_256, ClientProfile.SIGN_SHA1, ClientProfile.SIGN_SHA256})
  void keyShapedSecretIdNeverIssuedIsSecretIdNotFound(String sign) {
    CvmClient c = cvm(UNKNOWN_SECRET_ID, DEV_SECRET_KEY, REGION, sign, HttpProfile.REQ_POST);
    expectCode("AuthFailure.SecretIdNotFound", () -> c.DescribeInstancesStatus(status()));
  }

  @Test
  void secretIdThatIsNotKeyShapedIsInvalidSecretId() {
    CvmClient c = cvm("not-a-key", DEV_SECRET_KEY, REGION, ClientProfile.SIGN_TC3_256, HttpProfile.REQ_POST);
    expectCode("AuthFailure.InvalidSecretId", () -> c.DescribeInstancesStatus(status()));
  }

  @ParameterizedTest
  @ValueSource(strings = {ClientProfile.SIGN_TC3_256, ClientProfile.SIGN_SHA1})
  void emptyRegionIsMissingParameterRegion(String sign) {
    CvmClient c = tc.cvm(new Credential(DEV_SECRET_ID, DEV_SECRET_KEY), "",
        tc.profile(p -> {
          p.setSignMethod(sign);
          p.setLanguage(Language.EN_US);
        }));
    TencentCloudSDKException e = expectCode("MissingParameter", () -> c.DescribeInstancesStatus(status()));
    assertEquals("The request is missing a required parameter `Region`.", e.getMessage());
  }

  @Test
  void unknownRegionIsInvalidParameterValueAndARegionWithoutCvmIsUnsupportedRegion() {
    CvmClient gz = cvm(DEV_SECRET_ID, DEV_SECRET_KEY, "gz", ClientProfile.SIGN_TC3_256, HttpProfile.REQ_POST);
    assertTrue(expectCode("InvalidParameterValue", () -> gz.DescribeInstancesStatus(status()))
        .getMessage().contains("Region"));
    CvmClient toronto =
        cvm(DEV_SECRET_ID, DEV_SECRET_KEY, "na-toronto", ClientProfile.SIGN_TC3_256, HttpProfile.REQ_POST);
    expectCode("UnsupportedRegion", () -> toronto.DescribeInstancesStatus(status()));
  }

  @Test
  void limitOutOfRangeIsInvalidParameterValueAndTheEdgeIsAccepted() throws Exception {
    CvmClient c = tc.cvm();
    DescribeInstancesStatusRequest req = status();
    req.setLimit(101L);
    expectCode("InvalidParameterValue", () -> c.DescribeInstancesStatus(req));
    req.setLimit(100L);
    assertEquals(0L, c.DescribeInstancesStatus(req).getTotalCount());
  }

  @Test
  void moreThan100InstanceIdsIsInvalidParameterValueLimitExceeded() {
    String[] ids = new String[101];
    for (int i = 0; i < ids.length; i++) {
      ids[i] = String.format("ins-%08x", i);
    }
    DescribeInstancesStatusRequest req = status();
    req.setInstanceIds(ids);
    expectCode("InvalidParameterValue.LimitExceeded", () -> tc.cvm().DescribeInstancesStatus(req));
  }

  @Test
  void malformedInstanceIdIsInvalidInstanceIdMalformed() {
    DescribeInstancesStatusRequest req = status();
    req.setInstanceIds(new String[] {"bad-id"});
    expectCode("InvalidInstanceId.Malformed", () -> tc.cvm().DescribeInstancesStatus(req));
  }

  @Test
  void startInstancesWithoutInstanceIdsIsMissingParameter() {
    TencentCloudSDKException e =
        expectCode("MissingParameter", () -> tc.cvm().StartInstances(new StartInstancesRequest()));
    assertTrue(e.getMessage().contains("InstanceIds"), e.getMessage());
  }

  @Test
  void commonClientErrorsAreUnknownParameterInvalidActionNoSuchVersion() {
    Credential cred = new Credential(DEV_SECRET_ID, DEV_SECRET_KEY);
    CommonClient c = new CommonClient("cvm", CVM_VERSION, cred, REGION, tc.profile(p -> p.setLanguage(Language.EN_US)));
    assertEquals("The parameter `Foo` is not recognized.",
        expectCode("UnknownParameter", () -> call(c, "DescribeInstancesStatus", Map.of("Foo", 1))).getMessage());
    expectCode("InvalidParameter", () -> call(c, "DescribeInstancesStatus", Map.of("Limit", "abc")));
    expectCode("InvalidAction", () -> call(c, "NoSuchAction", Map.of()));
    CommonClient future = new CommonClient("cvm", "2099-01-01", cred, REGION, tc.profile());
    expectCode("NoSuchVersion", () -> call(future, "DescribeInstancesStatus", Map.of()));
  }

  @Test
  void modelledButNotEmulatedActionIsUnsupportedOperation() {
    DescribeInstancesOperationLimitRequest req = new DescribeInstancesOperationLimitRequest();
    req.setInstanceIds(new String[] {"ins-r8hr2upy"});
    req.setOperation("INSTANCE_DEGRADE");
    CvmClient c = tc.cvm(p -> p.setLanguage(Language.EN_US));
    assertTrue(expectCode("UnsupportedOperation", () -> c.DescribeInstancesOperationLimit(req))
        .getMessage().contains("DescribeInstancesOperationLimit"));
  }
}
