package tclocal.compat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static tclocal.compat.Tclocal.*;

import com.google.gson.JsonObject;
import com.tencentcloudapi.common.Credential;
import com.tencentcloudapi.cvm.v20170312.CvmClient;
import com.tencentcloudapi.cvm.v20170312.models.DescribeInstancesRequest;
import com.tencentcloudapi.cvm.v20170312.models.DescribeInstancesResponse;
import com.tencentcloudapi.cvm.v20170312.models.Filter;
import com.tencentcloudapi.cvm.v20170312.models.Instance;
import com.tencentcloudapi.cvm.v20170312.models.Placement;
import com.tencentcloudapi.cvm.v20170312.models.RunInstancesRequest;
import com.tencentcloudapi.cvm.v20170312.models.RunInstancesResponse;
import com.tencentcloudapi.cvm.v20170312.models.StartInstancesRequest;
import com.tencentcloudapi.cvm.v20170312.models.StopInstancesRequest;
import com.tencentcloudapi.cvm.v20170312.models.Tag;
import com.tencentcloudapi.cvm.v20170312.models.TagSpecification;
import com.tencentcloudapi.cvm.v20170312.models.TerminateInstancesRequest;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Stateful CVM with typed requests on a server of each test's own: launch 10 s, stop 5 s,
 * terminate 3 s of emulated time, 5 instances per region; tests move emulated time through the
 * control plane.
 */
class LifecycleTest {
  private static final String TENCENT_OS = "img-zsxdft8i";
  private static final Pattern INSTANCE_ID = Pattern.compile("^ins-[0-9a-z]{8}$");

  private static Tclocal server() {
    return Tclocal.start("cvm-lifecycle",
        "--cvm-timings", "launch=10,start=5,stop=5,reboot=5,terminate=3",
        "--cvm-instance-quota", "5");
  }

  private static RunInstancesRequest runRequest(long count) {
    RunInstancesRequest req = new RunInstancesRequest();
    Placement p = new Placement();
    p.setZone("ap-guangzhou-3");
    req.setPlacement(p);
    req.setInstanceType("S5.MEDIUM2");
    req.setImageId(TENCENT_OS);
    req.setInstanceCount(count);
    return req;
  }

  private static String[] run(CvmClient c, long count) throws Exception {
    RunInstancesResponse resp = c.RunInstances(runRequest(count));
    assertRequestId(resp.getRequestId());
    assertEquals(count, resp.getInstanceIdSet().length);
    for (String id : resp.getInstanceIdSet()) {
      assertTrue(INSTANCE_ID.matcher(id).matches(), id);
    }
    return resp.getInstanceIdSet();
  }

  private static Map<String, String> states(CvmClient c, String... ids) throws Exception {
    DescribeInstancesRequest req = new DescribeInstancesRequest();
    req.setInstanceIds(ids);
    DescribeInstancesResponse resp = c.DescribeInstances(req);
    Map<String, String> out = new TreeMap<>();
    for (Instance i : resp.getInstanceSet()) {
      out.put(i.getInstanceId(), i.getInstanceState());
    }
    assertEquals((long) out.size(), resp.getTotalCount());
    return out;
  }

  private static Map<String, String> all(String state, String... ids) {
    Map<String, String> m = new TreeMap<>();
    for (String id : ids) {
      m.put(id, state);
    }
    return m;
  }

  @Test
  void runDescribeStopTerminateFollowEmulatedTime() throws Exception {
    try (Tclocal tc = server()) {
      CvmClient c = tc.cvm();
      String[] ids = run(c, 2);
      assertEquals(all("PENDING", ids), states(c, ids));
      tc.advanceClock(10);
      assertEquals(all("RUNNING", ids), states(c, ids));

      StopInstancesRequest stop = new StopInstancesRequest();
      stop.setInstanceIds(new String[] {ids[0]});
      assertRequestId(c.StopInstances(stop).getRequestId());
      assertEquals(Map.of(ids[0], "STOPPING", ids[1], "RUNNING"), states(c, ids));
      tc.advanceClock(5);
      assertEquals(Map.of(ids[0], "STOPPED", ids[1], "RUNNING"), states(c, ids));

      TerminateInstancesRequest term = new TerminateInstancesRequest();
      term.setInstanceIds(ids);
      c.TerminateInstances(term);
      assertEquals(all("TERMINATING", ids), states(c, ids));
      tc.advanceClock(3);
      assertEquals(Map.of(), states(c, ids));

      StartInstancesRequest start = new StartInstancesRequest();
      start.setInstanceIds(new String[] {ids[0]});
      expectCode("InvalidInstanceId.NotFound", () -> c.StartInstances(start));
    }
  }

  @Test
  void describeInstancesFillsTheSdkInstanceModel() throws Exception {
    try (Tclocal tc = server()) {
      CvmClient c = tc.cvm();
      RunInstancesRequest req = runRequest(1);
      req.setInstanceName("web-1");
      Tag tag = new Tag();
      tag.setKey("env");
      tag.setValue("ci");
      TagSpecification spec = new TagSpecification();
      spec.setResourceType("instance");
      spec.setTags(new Tag[] {tag});
      req.setTagSpecification(new TagSpecification[] {spec});
      String id = c.RunInstances(req).getInstanceIdSet()[0];
      tc.advanceClock(10);
      DescribeInstancesRequest d = new DescribeInstancesRequest();
      d.setInstanceIds(new String[] {id});
      Instance i = c.DescribeInstances(d).getInstanceSet()[0];
      assertEquals("web-1", i.getInstanceName());
      assertEquals("S5.MEDIUM2", i.getInstanceType());
      assertEquals("ap-guangzhou-3", i.getPlacement().getZone());
      assertEquals("RUNNING", i.getInstanceState());
      assertEquals(2L, i.getCPU());
      assertEquals(2L, i.getMemory());
      assertEquals("env", i.getTags()[0].getKey());
      assertEquals("ci", i.getTags()[0].getValue());
      assertEquals(1, i.getPrivateIpAddresses().length);
      assertNotNull(i.getVirtualPrivateCloud().getVpcId());
      assertEquals("RunInstances", i.getLatestOperation());
      assertEquals("SUCCESS", i.getLatestOperationState());
      JsonObject raw = call(tc.common("cvm", CVM_VERSION, new Credential(DEV_SECRET_ID, DEV_SECRET_KEY), REGION),
          "DescribeInstances", Map.of("InstanceIds", new String[] {id}));
      // HostName and DisasterRecoverGroupIds are newer than SDK 3.1.1342's Instance model.
      SeedTest.assertModelMembers(raw.getAsJsonArray("InstanceSet").get(0).getAsJsonObject(), Instance.class,
          java.util.Set.of("DisasterRecoverGroupIds", "HostName"));
    }
  }

  @Test
  void stoppingAPendingInstanceIsUnsupportedOperationInstanceStatePending() throws Exception {
    try (Tclocal tc = server()) {
      CvmClient c = tc.cvm();
      StopInstancesRequest stop = new StopInstancesRequest();
      stop.setInstanceIds(run(c, 1));
      expectCode("UnsupportedOperation.InstanceStatePending", () -> c.StopInstances(stop));
    }
  }

  @Test
  void sixthInstanceBeyondTheQuotaIsLimitExceededInstanceQuotaAndCreatesNothing() throws Exception {
    try (Tclocal tc = server()) {
      CvmClient c = tc.cvm();
      run(c, 5);
      expectCode("LimitExceeded.InstanceQuota", () -> c.RunInstances(runRequest(1)));
      assertEquals(5L, c.DescribeInstances(new DescribeInstancesRequest()).getTotalCount());
    }
  }

  @Test
  void dryRunIsDryRunOperationAndCreatesNothing() throws Exception {
    try (Tclocal tc = server()) {
      CvmClient c = tc.cvm();
      RunInstancesRequest req = runRequest(1);
      req.setDryRun(true);
      expectCode("DryRunOperation", () -> c.RunInstances(req));
      assertEquals(0L, c.DescribeInstances(new DescribeInstancesRequest()).getTotalCount());
    }
  }

  @Test
  void instanceStateFilterAndPagingOfDescribeInstances() throws Exception {
    try (Tclocal tc = server()) {
      CvmClient c = tc.cvm();
      String[] ids = run(c, 3);
      tc.advanceClock(10);
      StopInstancesRequest stop = new StopInstancesRequest();
      stop.setInstanceIds(new String[] {ids[0]});
      c.StopInstances(stop);
      Filter f = new Filter();
      f.setName("instance-state");
      f.setValues(new String[] {"RUNNING"});
      DescribeInstancesRequest req = new DescribeInstancesRequest();
      req.setFilters(new Filter[] {f});
      Map<String, String> running = new TreeMap<>();
      for (Instance i : c.DescribeInstances(req).getInstanceSet()) {
        running.put(i.getInstanceId(), i.getInstanceState());
      }
      assertEquals(all("RUNNING", ids[1], ids[2]), running);
      DescribeInstancesRequest page = new DescribeInstancesRequest();
      page.setOffset(2L);
      page.setLimit(2L);
      DescribeInstancesResponse resp = c.DescribeInstances(page);
      assertEquals(3L, resp.getTotalCount());
      assertEquals(1, resp.getInstanceSet().length);
    }
  }

  @Test
  void sameClientTokenReturnsTheSameInstances() throws Exception {
    try (Tclocal tc = server()) {
      CvmClient c = tc.cvm();
      RunInstancesRequest req = runRequest(2);
      req.setClientToken("deploy-42");
      RunInstancesResponse first = c.RunInstances(req);
      RunInstancesResponse again = c.RunInstances(req);
      assertEquals(java.util.List.of(first.getInstanceIdSet()), java.util.List.of(again.getInstanceIdSet()));
      assertNotEquals(first.getRequestId(), again.getRequestId());
    }
  }
}
