package tclocal.compat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.Gson;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.tencentcloudapi.common.CommonClient;
import com.tencentcloudapi.common.Credential;
import com.tencentcloudapi.common.exception.TencentCloudSDKException;
import com.tencentcloudapi.common.profile.ClientProfile;
import com.tencentcloudapi.common.profile.HttpProfile;
import com.tencentcloudapi.common.profile.Language;
import com.tencentcloudapi.cvm.v20170312.CvmClient;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.regex.Pattern;
import org.junit.jupiter.api.function.Executable;

/**
 * A running {@code tclocal serve --ephemeral} on a free 127.0.0.1 port, and the helpers the tests
 * share: SDK clients pointed at it, the control plane, and assertions on the SDK's exception.
 *
 * <p>The binary is {@code $TCLOCAL_BIN}, else {@code <repo>/target/debug/tclocal}. {@link
 * #shared()} is one default server for the whole run (stopped when the JVM exits); tests that
 * change state or need other flags start their own with {@link #start} in try-with-resources.
 */
final class Tclocal implements AutoCloseable {
  static final String DEV_SECRET_ID = "AKIDtclocalDevelopmentKey00000000000";
  static final String DEV_SECRET_KEY = "tclocalDevelopmentSecretKey00000";
  /** Key-shaped (AKID + 32 alphanumerics) but never issued by tclocal. */
  static final String UNKNOWN_SECRET_ID = "AKIDZz9Yy8Xx7Ww6Vv5Uu4Tt3Ss2Rr1Qq0Pp";

  static final String WRONG_SECRET_KEY = "w".repeat(32);
  static final String REGION = "ap-guangzhou";
  static final String CVM_VERSION = "2017-03-12";
  static final Pattern UUID4 =
      Pattern.compile("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$");

  private static final Duration HEALTH_TIMEOUT = Duration.ofSeconds(10);
  private static final HttpClient HTTP =
      HttpClient.newBuilder()
          .proxy(HttpClient.Builder.NO_PROXY)
          .connectTimeout(Duration.ofSeconds(5))
          .build();
  private static Tclocal shared;

  final int port;
  private final Process process;
  private final Path log;

  private Tclocal(int port, Process process, Path log) {
    this.port = port;
    this.process = process;
    this.log = log;
  }

  static synchronized Tclocal shared() {
    if (shared == null) {
      shared = start("default");
      Tclocal s = shared;
      Runtime.getRuntime().addShutdownHook(new Thread(s::close));
    }
    return shared;
  }

  static Path binary() {
    String bin = System.getenv("TCLOCAL_BIN");
    if (bin != null && !bin.isEmpty()) {
      return Path.of(bin);
    }
    return Path.of("..", "..", "target", "debug", "tclocal").toAbsolutePath().normalize();
  }

  /** Starts {@code tclocal serve --ephemeral --listen 127.0.0.1:<free port> args...}. */
  static Tclocal start(String name, String... args) {
    Path bin = binary();
    if (!Files.isExecutable(bin)) {
      throw new IllegalStateException(
          "tclocal binary not found at " + bin + " (build it, or set TCLOCAL_BIN)");
    }
    String lastError = "";
    for (int attempt = 0; attempt < 3; attempt++) {
      try {
        int port = freePort();
        Path log = Files.createTempFile("tclocal-java-" + name + "-", ".log");
        List<String> cmd = new ArrayList<>();
        cmd.add(bin.toString());
        cmd.addAll(List.of("serve", "--ephemeral", "--listen", "127.0.0.1:" + port));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        // A stray TCLOCAL_AUTH=off or TCLOCAL_SECRET_KEY would change what is tested.
        pb.environment().keySet().removeIf(k -> k.startsWith("TCLOCAL_"));
        pb.redirectErrorStream(true).redirectOutput(log.toFile());
        Process p = pb.start();
        Tclocal t = new Tclocal(port, p, log);
        long deadline = System.nanoTime() + HEALTH_TIMEOUT.toNanos();
        while (System.nanoTime() < deadline && p.isAlive()) {
          if (t.healthy()) {
            return t;
          }
          Thread.sleep(50);
        }
        t.close();
        lastError = "tclocal " + cmd + " not healthy within " + HEALTH_TIMEOUT + "; log:\n" + t.logTail();
        if (!lastError.toLowerCase().contains("in use")) {
          break;
        }
      } catch (IOException e) {
        lastError = e.toString();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
    }
    throw new IllegalStateException(lastError);
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  private boolean healthy() {
    try {
      HttpResponse<Void> r =
          HTTP.send(
              HttpRequest.newBuilder(URI.create(url() + "/_tclocal/health"))
                  .timeout(Duration.ofSeconds(1))
                  .build(),
              HttpResponse.BodyHandlers.discarding());
      return r.statusCode() == 200;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  String endpoint() {
    return "127.0.0.1:" + port;
  }

  String url() {
    return "http://" + endpoint();
  }

  String logTail() {
    try {
      String s = Files.readString(log);
      return s.length() > 4000 ? s.substring(s.length() - 4000) : s;
    } catch (IOException e) {
      return "<no log>";
    }
  }

  @Override
  public void close() {
    if (process.isAlive()) {
      process.destroy();
      try {
        if (!process.waitFor(5, TimeUnit.SECONDS)) {
          process.destroyForcibly().waitFor();
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  // --- control plane -------------------------------------------------------------------------

  /** One control-plane call: {@code [status, JSON body]}. */
  Object[] control(String method, String path, Object body) {
    HttpRequest.BodyPublisher pub =
        body == null
            ? HttpRequest.BodyPublishers.noBody()
            : HttpRequest.BodyPublishers.ofString(new Gson().toJson(body));
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(url() + path))
            .timeout(Duration.ofSeconds(10))
            .method(method, pub);
    if (body != null) {
      b.header("Content-Type", "application/json");
    }
    try {
      HttpResponse<String> r = HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
      JsonObject json =
          r.body().isEmpty() ? new JsonObject() : JsonParser.parseString(r.body()).getAsJsonObject();
      return new Object[] {r.statusCode(), json};
    } catch (IOException e) {
      throw new IllegalStateException(method + " " + path, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  JsonObject controlOk(String method, String path, Object body) {
    Object[] r = control(method, path, body);
    assertTrue((int) r[0] == 200 || (int) r[0] == 201, method + " " + path + ": " + r[0] + " " + r[1]);
    return (JsonObject) r[1];
  }

  /** Moves emulated time forward; signatures keep being checked against wall time. */
  void advanceClock(int seconds) {
    controlOk("POST", "/_tclocal/clock/advance?seconds=" + seconds, null);
  }

  /** The journal's record of one request. */
  JsonObject journal(String requestId) {
    return controlOk("GET", "/_tclocal/requests/" + requestId, null);
  }

  // --- clients -------------------------------------------------------------------------------

  /** A profile pointed at this server over plain HTTP, as a user of a local endpoint writes it. */
  ClientProfile profile() {
    HttpProfile http = new HttpProfile();
    http.setEndpoint(endpoint());
    http.setProtocol(HttpProfile.REQ_HTTP);
    http.setConnTimeout(10);
    http.setReadTimeout(15);
    ClientProfile p = new ClientProfile();
    p.setHttpProfile(http);
    p.setLanguage(Language.ZH_CN);
    return p;
  }

  ClientProfile profile(Consumer<ClientProfile> adjust) {
    ClientProfile p = profile();
    adjust.accept(p);
    return p;
  }

  CvmClient cvm() {
    return cvm(new Credential(DEV_SECRET_ID, DEV_SECRET_KEY), REGION, profile());
  }

  CvmClient cvm(Consumer<ClientProfile> adjust) {
    return cvm(new Credential(DEV_SECRET_ID, DEV_SECRET_KEY), REGION, profile(adjust));
  }

  CvmClient cvm(Credential cred, String region, ClientProfile profile) {
    // No backup endpoint: the region breaker stays off, so a failing client can never be sent
    // to a real host.
    assertTrue(profile.getBackupEndpoint() == null || profile.getBackupEndpoint().isEmpty());
    return new CvmClient(cred, region, profile);
  }

  CommonClient common(String service, String version, Credential cred, String region) {
    return new CommonClient(service, version, cred, region, profile());
  }

  /** A generic call's {@code Response}. */
  static JsonObject call(CommonClient c, String action, Map<String, ?> params)
      throws TencentCloudSDKException {
    String body = c.call(action, new Gson().toJson(params));
    return JsonParser.parseString(body).getAsJsonObject().getAsJsonObject("Response");
  }

  // --- assertions ----------------------------------------------------------------------------

  static void assertRequestId(String id) {
    assertNotNull(id, "no RequestId");
    assertTrue(UUID4.matcher(id).matches(), "RequestId is not a lowercase UUID v4: " + id);
  }

  /**
   * Runs {@code call}, asserts it threw the SDK's exception with exactly {@code code}, a message
   * and a UUID v4 RequestId.
   */
  static TencentCloudSDKException expectCode(String code, Executable call) {
    TencentCloudSDKException e = assertThrows(TencentCloudSDKException.class, call);
    assertEquals(code, e.getErrorCode(), () -> "got " + e);
    assertFalse(e.getMessage() == null || e.getMessage().isEmpty(), "empty message: " + e);
    assertRequestId(e.getRequestId());
    return e;
  }
}
