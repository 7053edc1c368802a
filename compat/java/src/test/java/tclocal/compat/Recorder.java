package tclocal.compat;

import java.io.IOException;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import okhttp3.Interceptor;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import okio.Buffer;

/**
 * An OkHttp client (the SDK's HTTP library) that keeps what the SDK sent and the status and
 * content type of each answer. Given to the SDK through {@code HttpProfile.setHttpClient}.
 */
final class Recorder implements Interceptor {
  /** What went out and what came back, read before the SDK consumes the answer. */
  record Exchange(Request request, String body, int status, String contentType) {}

  final List<Exchange> exchanges = new CopyOnWriteArrayList<>();

  OkHttpClient client() {
    return new OkHttpClient.Builder()
        .addInterceptor(this)
        .proxy(java.net.Proxy.NO_PROXY)
        .readTimeout(15, TimeUnit.SECONDS)
        .build();
  }

  @Override
  public Response intercept(Chain chain) throws IOException {
    Request req = chain.request();
    String body = "";
    if (req.body() != null) {
      Buffer b = new Buffer();
      req.body().writeTo(b);
      body = b.readUtf8();
    }
    Response resp = chain.proceed(req);
    exchanges.add(new Exchange(req, body, resp.code(), resp.header("Content-Type")));
    return resp;
  }

  Exchange only() {
    if (exchanges.size() != 1) {
      throw new AssertionError(exchanges.size() + " exchanges");
    }
    return exchanges.get(0);
  }
}
