package tclocal.compat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static tclocal.compat.Tclocal.*;

import com.google.gson.JsonObject;
import com.tencentcloudapi.common.Credential;
import com.tencentcloudapi.common.profile.Language;
import com.tencentcloudapi.cvm.v20170312.CvmClient;
import com.tencentcloudapi.cvm.v20170312.models.DescribeInstancesStatusRequest;
import com.tencentcloudapi.cvm.v20170312.models.DescribeInstancesStatusResponse;
import com.tencentcloudapi.cvm.v20170312.models.DescribeRegionsRequest;
import com.tencentcloudapi.cvm.v20170312.models.DescribeZonesRequest;
import com.tencentcloudapi.cvm.v20170312.models.DescribeZonesResponse;
import com.tencentcloudapi.cvm.v20170312.models.RegionInfo;
import com.tencentcloudapi.cvm.v20170312.models.ZoneInfo;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/** The seeds' own example and the catalogue reads, through the typed CvmClient. */
class SeedTest {
  private final Tclocal tc = Tclocal.shared();

  @Test
  void seedExampleDescribeInstancesStatusIsAnEmptySetWithARequestId() throws Exception {
    DescribeInstancesStatusResponse resp =
        tc.cvm().DescribeInstancesStatus(new DescribeInstancesStatusRequest());
    assertEquals(0L, resp.getTotalCount());
    assertNotNull(resp.getInstanceStatusSet(), "InstanceStatusSet is absent");
    assertEquals(0, resp.getInstanceStatusSet().length);
    assertRequestId(resp.getRequestId());
  }

  @Test
  void seedExampleEnvelopeIsResponseWithExactlyTheDocumentedMembers() throws Exception {
    Recorder rec = new Recorder();
    CvmClient c = tc.cvm(p -> p.getHttpProfile().setHttpClient(rec.client()));
    c.DescribeInstancesStatus(new DescribeInstancesStatusRequest());
    Recorder.Exchange x = rec.only();
    assertEquals(200, x.status());
    assertEquals("application/json", x.contentType());
    JsonObject doc =
        call(tc.common("cvm", CVM_VERSION, new Credential(DEV_SECRET_ID, DEV_SECRET_KEY), REGION),
            "DescribeInstancesStatus", Map.of());
    assertEquals(Set.of("TotalCount", "InstanceStatusSet", "RequestId"), doc.keySet());
    assertEquals(0, doc.get("TotalCount").getAsInt());
    assertEquals(0, doc.getAsJsonArray("InstanceStatusSet").size());
    assertRequestId(doc.get("RequestId").getAsString());
  }

  @Test
  void errorAnswerIsHttp200WithJsonContentTypeAndTheSdkThrowsIt() {
    Recorder rec = new Recorder();
    CvmClient c =
        tc.cvm(new Credential(DEV_SECRET_ID, WRONG_SECRET_KEY), REGION,
            tc.profile(p -> p.getHttpProfile().setHttpClient(rec.client())));
    expectCode("AuthFailure.SignatureFailure",
        () -> c.DescribeInstancesStatus(new DescribeInstancesStatusRequest()));
    assertEquals(200, rec.only().status());
    assertEquals("application/json", rec.only().contentType());
  }

  @Test
  void requestIdsAreFreshUuid4sPerRequest() throws Exception {
    CvmClient c = tc.cvm();
    Set<String> ids = new HashSet<>();
    for (int i = 0; i < 5; i++) {
      String id = c.DescribeInstancesStatus(new DescribeInstancesStatusRequest()).getRequestId();
      assertRequestId(id);
      ids.add(id);
    }
    assertEquals(5, ids.size());
  }

  @Test
  void journalFindsTheSdksRequestByItsRequestIdAndNamesTheJavaSdk() throws Exception {
    DescribeZonesResponse resp = tc.cvm().DescribeZones(new DescribeZonesRequest());
    JsonObject entry = tc.journal(resp.getRequestId());
    assertEquals("DescribeZones", entry.get("action").getAsString());
    assertEquals("verified", entry.get("auth").getAsString());
    assertTrue(entry.get("code").isJsonNull(), entry.toString());
    assertTrue(entry.get("client").getAsString().startsWith("SDK_JAVA_"), entry.toString());
  }

  @Test
  void describeZonesListsApGuangzhou3WithItsChineseAndEnglishNames() throws Exception {
    DescribeZonesResponse zh = tc.cvm().DescribeZones(new DescribeZonesRequest());
    assertEquals("广州三区", zoneName(zh, "ap-guangzhou-3"));
    assertEquals((long) zh.getZoneSet().length, zh.getTotalCount());
    DescribeZonesResponse en =
        tc.cvm(p -> p.setLanguage(Language.EN_US)).DescribeZones(new DescribeZonesRequest());
    assertEquals("Guangzhou Zone 3", zoneName(en, "ap-guangzhou-3"));
  }

  private static String zoneName(DescribeZonesResponse resp, String zone) {
    for (ZoneInfo z : resp.getZoneSet()) {
      if (z.getZone().equals(zone)) {
        assertEquals("AVAILABLE", z.getZoneState());
        return z.getZoneName();
      }
    }
    throw new AssertionError("no " + zone);
  }

  /** Every member tclocal sends is one the SDK's model has (Gson drops unknown ones silently). */
  @Test
  void describeRegionsSendsOnlyMembersOfTheSdkModel() throws Exception {
    RegionInfo[] regions = tc.cvm().DescribeRegions(new DescribeRegionsRequest()).getRegionSet();
    assertTrue(java.util.Arrays.stream(regions).anyMatch(r -> r.getRegion().equals("ap-guangzhou")));
    JsonObject raw =
        call(tc.common("cvm", CVM_VERSION, new Credential(DEV_SECRET_ID, DEV_SECRET_KEY), REGION),
            "DescribeRegions", Map.of());
    assertModelMembers(raw.getAsJsonArray("RegionSet").get(0).getAsJsonObject(), RegionInfo.class);
  }

  /** Fails when {@code raw} has a member the SDK model class has no field for. */
  static void assertModelMembers(JsonObject raw, Class<?> model) {
    assertModelMembers(raw, model, Set.of());
  }

  /**
   * Fails when {@code raw} has a member the SDK model class has no field for, other than {@code
   * newer}: members the API gained after this SDK release (Gson drops them; the test names them
   * so that they stay a known list).
   */
  static void assertModelMembers(JsonObject raw, Class<?> model, Set<String> newer) {
    Set<String> known = new HashSet<>();
    for (java.lang.reflect.Field f : model.getDeclaredFields()) {
      com.google.gson.annotations.SerializedName n =
          f.getAnnotation(com.google.gson.annotations.SerializedName.class);
      if (n != null) {
        known.add(n.value());
      }
    }
    Set<String> extra = new TreeSet<>(raw.keySet());
    extra.removeAll(known);
    for (String n : newer) {
      assertTrue(!known.contains(n), model.getSimpleName() + " has " + n + " now: drop it from the list");
    }
    extra.removeAll(newer);
    assertTrue(extra.isEmpty(), model.getSimpleName() + " has no member " + extra);
  }
}
