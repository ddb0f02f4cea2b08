package org.llmkit.serve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.llmkit.api.LanguageModel;
import org.llmkit.api.Tokenizer;

/** The hf-tiny Llama 3 with its tokenizer (loaded once per JVM) and a small JDK HttpClient toolkit. */
final class TestSupport {
    static final ObjectMapper JSON = new ObjectMapper();
    static final HttpClient HTTP = HttpClient.newHttpClient();
    static final String MODEL_NAME = "tiny-llama3";

    private TestSupport() { }

    /** @return the shared model; never closed (the JVM ends with the tests) */
    static LanguageModel model() {
        return Holder.MODEL;
    }

    /** @return a builder for a loopback server on a free port, serving {@link #MODEL_NAME} */
    static LlmServerBuilder server() {
        return LlmServer.of(model()).port(0).modelName(MODEL_NAME);
    }

    static HttpResponse<String> post(LlmServer s, String path, String body, String key) {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri(s, path)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body));
        if (key != null) {
            b.header("Authorization", "Bearer " + key);
        }
        return send(b.build());
    }

    static HttpResponse<String> post(LlmServer s, String path, String body) {
        return post(s, path, body, null);
    }

    static HttpResponse<String> get(LlmServer s, String path, String key) {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri(s, path)).GET();
        if (key != null) {
            b.header("Authorization", "Bearer " + key);
        }
        return send(b.build());
    }

    static JsonNode json(HttpResponse<String> r) {
        try {
            return JSON.readTree(r.body());
        } catch (IOException e) {
            throw new UncheckedIOException("not JSON: " + r.body(), e);
        }
    }

    /** @return the JSON chunks of an SSE body, without the final {@code [DONE]} (asserted present and last) */
    static List<JsonNode> sseChunks(String body) {
        List<JsonNode> chunks = new ArrayList<>();
        String[] events = body.split("\n\n");
        if (!events[events.length - 1].equals("data: [DONE]")) {
            throw new AssertionError("stream does not end with data: [DONE]: " + body);
        }
        for (int i = 0; i < events.length - 1; i++) {
            if (!events[i].startsWith("data: ")) {
                throw new AssertionError("not an SSE data line: " + events[i]);
            }
            try {
                chunks.add(JSON.readTree(events[i].substring("data: ".length())));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return chunks;
    }

    /**
     * @return a few characters from the middle of the greedy continuation of {@code prompt}, which therefore
     *     works as a stop string that ends that generation early
     */
    static String stopFromMiddleOf(String prompt, int maxNewTokens) {
        String text = model().generate(prompt).maxNewTokens(maxNewTokens).greedy().text();
        int at = text.length() / 2;
        return text.substring(at, at + 3);
    }

    static URI uri(LlmServer s, String path) {
        return URI.create("http://127.0.0.1:" + s.port() + path);
    }

    private static HttpResponse<String> send(HttpRequest r) {
        try {
            return HTTP.send(r, HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** @return shared/fixtures/hf-tiny, found by walking up from the working directory */
    static Path hfTiny() {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            Path candidate = p.resolve("shared/fixtures/hf-tiny");
            if (Files.isDirectory(candidate)) {
                return candidate;
            }
        }
        throw new IllegalStateException("shared/fixtures/hf-tiny not found above " + Path.of("").toAbsolutePath());
    }

    private static final class Holder {
        static final LanguageModel MODEL = load();

        private static LanguageModel load() {
            try {
                return LanguageModel.load(hfTiny().resolve("llama3"))
                        .withTokenizer(Tokenizer.load(hfTiny().resolve("tokenizer")));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }
}
