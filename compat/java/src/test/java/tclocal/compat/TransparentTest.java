package tclocal.compat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static tclocal.compat.Tclocal.*;

import com.google.gson.JsonObject;
import com.tencentcloudapi.common.Credential;
import com.tencentcloudapi.common.exception.TencentCloudSDKException;
import com.tencentcloudapi.common.profile.ClientProfile;
import com.tencentcloudapi.common.profile.HttpProfile;
import com.tencentcloudapi.cvm.v20170312.CvmClient;
import com.tencentcloudapi.cvm.v20170312.models.DescribeInstancesStatusRequest;
import com.tencentcloudapi.cvm.v20170312.models.DescribeInstancesStatusResponse;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * HttpProfile.setRootDomain and transparent mode ({@code tclocal serve --tls}).
 *
 * <p>With no endpoint the SDK sends to {@code cvm.} + RootDomain (default {@code
 * tencentcloudapi.com}), which reaches loopback only through a proxy: HttpProfile's proxy host
 * and port point at tclocal, which serves plain proxy requests and CONNECT tunnels to the API
 * hosts itself. HTTPS is verified against {@code tclocal ca}'s CA, given to the SDK through
 * HttpProfile's SSLSocketFactory and X509TrustManager. No name is looked up: the proxy is
 * 127.0.0.1, and the JVM resolves names only from src/test/resources/loopback-hosts.
 */
class TransparentTest {
  @TempDir static Path caDir;
  private static Tclocal tls;

  @BeforeAll
  static void startTls() throws Exception {
    Process p = new ProcessBuilder(binary().toString(), "ca", "--ca-dir", caDir.toString())
        .redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    assertEquals(0, p.waitFor(), out);
    assertTrue(out.contains(caDir.resolve("ca.pem").toString()), out);
    tls = Tclocal.start("tls", "--tls", "--ca-dir", caDir.toString());
  }

  @AfterAll
  static void stopTls() {
    if (tls != null) {
      tls.close();
    }
  }

  /** A profile with no endpoint, sent through tclocal as the proxy. */
  private static ClientProfile proxied(String protocol, String rootDomain) {
    HttpProfile http = new HttpProfile();
    http.setProtocol(protocol);
    if (rootDomain != null) {
      http.setRootDomain(rootDomain);
    }
    http.setProxyHost("127.0.0.1");
    http.setProxyPort(tls.port);
    http.setReadTimeout(15);
    return new ClientProfile(ClientProfile.SIGN_TC3_256, http);
  }

  private static X509TrustManager trustingTclocalCa() throws Exception {
    KeyStore ks = KeyStore.getInstance(KeyStore.getDefaultType());
    ks.load(null, null);
    try (InputStream in = Files.newInputStream(caDir.resolve("ca.pem"))) {
      X509Certificate ca = (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
      ks.setCertificateEntry("tclocal", ca);
    }
    TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(ks);
    return (X509TrustManager) tmf.getTrustManagers()[0];
  }

  private static CvmClient client(ClientProfile p) {
    return new CvmClient(new Credential(DEV_SECRET_ID, DEV_SECRET_KEY), REGION, p);
  }

  /** The guard every test relies on: names come only from the loopback hosts file. */
  @Test
  void nameLookupsOutsideTheHostsFileFailWithoutAQuery() {
    String hosts = System.getProperty("jdk.net.hosts.file");
    assertTrue(hosts != null && Files.isRegularFile(Path.of(hosts)), "jdk.net.hosts.file: " + hosts);
    assertThrows(java.net.UnknownHostException.class, () -> java.net.InetAddress.getByName("cvm.tencentcloudapi.com"));
  }

  @Test
  void defaultEndpointOverHttpsReachesTclocalThroughTheProxyWithItsCa() throws Exception {
    for (String method : new String[] {HttpProfile.REQ_POST, HttpProfile.REQ_GET}) {
      ClientProfile p = proxied(HttpProfile.REQ_HTTPS, null);
      p.getHttpProfile().setReqMethod(method);
      X509TrustManager tm = trustingTclocalCa();
      SSLContext ctx = SSLContext.getInstance("TLS");
      ctx.init(null, new javax.net.ssl.TrustManager[] {tm}, null);
      p.getHttpProfile().setSslSocketFactory(ctx.getSocketFactory());
      p.getHttpProfile().setX509TrustManager(tm);
      DescribeInstancesStatusResponse resp =
          client(p).DescribeInstancesStatus(new DescribeInstancesStatusRequest());
      assertEquals(0L, resp.getTotalCount());
      JsonObject entry = tls.journal(resp.getRequestId());
      assertEquals("DescribeInstancesStatus", entry.get("action").getAsString());
      assertEquals(method, entry.get("method").getAsString());
    }
  }

  /** Pinned behaviour: the CA is what makes HTTPS work; the JDK's own roots refuse tclocal. */
  @Test
  void withoutTclocalsCaTheSdkRefusesTheCertificate() {
    CvmClient c = client(proxied(HttpProfile.REQ_HTTPS, null));
    TencentCloudSDKException e = assertThrows(TencentCloudSDKException.class,
        () -> c.DescribeInstancesStatus(new DescribeInstancesStatusRequest()));
    assertTrue(String.valueOf(e.getMessage()).contains("PKIX")
        || String.valueOf(e.getCause()).contains("PKIX"), e.toString() + " / " + e.getCause());
  }

  @Test
  void rootDomainOverPlainHttpThroughTheProxyReachesTclocal() throws Exception {
    for (String root : new String[] {"tencentcloudapi.com", "ap-guangzhou.tencentcloudapi.com", "intl.tencentcloudapi.com"}) {
      DescribeInstancesStatusResponse resp = client(proxied(HttpProfile.REQ_HTTP, root))
          .DescribeInstancesStatus(new DescribeInstancesStatusRequest());
      JsonObject entry = tls.journal(resp.getRequestId());
      assertEquals("verified", entry.get("auth").getAsString(), root);
      assertEquals("cvm", entry.get("service").getAsString(), root);
    }
  }

  /** The host really comes from RootDomain: one outside Tencent Cloud is refused by the proxy. */
  @Test
  void rootDomainOutsideTencentCloudIsRefusedByTheProxy() {
    CvmClient c = client(proxied(HttpProfile.REQ_HTTP, "example.com"));
    TencentCloudSDKException e = assertThrows(TencentCloudSDKException.class,
        () -> c.DescribeInstancesStatus(new DescribeInstancesStatusRequest()));
    assertTrue(e.toString().contains("403"), e.toString());
  }
}
