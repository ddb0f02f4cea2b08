package org.llmkit.serve;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.llmkit.api.LanguageModel;

/**
 * Configures an {@link LlmServer}; each setter checks its value, {@link #start()} checks the combination and
 * starts listening. The builder may be reused: {@code start()} copies the settings.
 *
 * <pre>{@code
 * try (LlmServer s = LlmServer.of(model).port(0).apiKeys("k1").maxBatchSize(4).start()) { ... }
 * }</pre>
 */
public final class LlmServerBuilder {
    private final LanguageModel model;
    private String host = "127.0.0.1";
    private int port = 8080;
    private final List<String> apiKeys = new ArrayList<>();
    private int maxBatchSize = 8;
    private long maxKvTokens;
    private int maxQueue = 64;
    private String modelName;
    private long maxBodyBytes = 1 << 20;
    private Duration requestTimeout = Duration.ofMinutes(5);
    private Duration shutdownGrace = Duration.ofSeconds(30);
    private int defaultMaxTokens = 256;

    LlmServerBuilder(LanguageModel model) {
        this.model = Objects.requireNonNull(model, "model");
    }

    /**
     * @param p TCP port in [0, 65535]; 0 picks a free one (read it with {@link LlmServer#port()}); default 8080
     * @return this
     */
    public LlmServerBuilder port(int p) {
        if (p < 0 || p > 65535) {
            throw new IllegalArgumentException("port must be in [0, 65535] but is " + p);
        }
        port = p;
        return this;
    }

    /**
     * @param h interface to listen on, e.g. {@code 0.0.0.0} for all; default {@code 127.0.0.1} (loopback only)
     * @return this
     */
    public LlmServerBuilder host(String h) {
        if (h == null || h.isBlank()) {
            throw new IllegalArgumentException("host must be a non-blank interface name or address");
        }
        host = h;
        return this;
    }

    /**
     * Requires {@code Authorization: Bearer <key>} with one of these keys on every {@code /v1} and
     * {@code /generate} call ({@code /health} and {@code /metrics} stay open). Adds to earlier keys.
     *
     * @param keys non-blank keys
     * @return this
     */
    public LlmServerBuilder apiKeys(String... keys) {
        for (String k : keys) {
            if (k == null || k.isBlank()) {
                throw new IllegalArgumentException("API keys must be non-blank");
            }
            apiKeys.add(k);
        }
        return this;
    }

    /**
     * @param n sequences decoded together by continuous batching (one forward pass per step over all of them);
     *     in [1, 1024]; default 8
     * @return this
     */
    public LlmServerBuilder maxBatchSize(int n) {
        if (n < 1 || n > 1024) {
            throw new IllegalArgumentException("maxBatchSize must be in [1, 1024] but is " + n);
        }
        maxBatchSize = n;
        return this;
    }

    /**
     * Caps the KV cache: the prompt + {@code max_tokens} of the sequences decoding together sum to at most this
     * many tokens (a request waits until it fits; one that can never fit gets HTTP 400). Default:
     * {@code maxBatchSize * min(context, 2048)}, at least the model's context.
     *
     * @param tokens &gt; 0
     * @return this
     */
    public LlmServerBuilder maxKvTokens(long tokens) {
        if (tokens <= 0) {
            throw new IllegalArgumentException("maxKvTokens must be > 0 but is " + tokens);
        }
        maxKvTokens = tokens;
        return this;
    }

    /**
     * @param n requests waiting for a slot at most; more get HTTP 429; in [0, 100000]; default 64
     * @return this
     */
    public LlmServerBuilder maxQueue(int n) {
        if (n < 0 || n > 100_000) {
            throw new IllegalArgumentException("maxQueue must be in [0, 100000] but is " + n);
        }
        maxQueue = n;
        return this;
    }

    /**
     * @param name the model id served by {@code /v1/models} and required in requests; default: the model
     *     folder's name
     * @return this
     */
    public LlmServerBuilder modelName(String name) {
        if (name == null || name.isBlank()) {
            throw new IllegalArgumentException("modelName must be non-blank");
        }
        modelName = name;
        return this;
    }

    /**
     * @param bytes largest accepted request body; larger gets HTTP 413; in [1 KiB, 1 GiB]; default 1 MiB
     * @return this
     */
    public LlmServerBuilder maxBodyBytes(long bytes) {
        if (bytes < 1024 || bytes > (1L << 30)) {
            throw new IllegalArgumentException("maxBodyBytes must be in [1024, 1073741824] but is " + bytes);
        }
        maxBodyBytes = bytes;
        return this;
    }

    /**
     * @param timeout longest time a request may wait and generate; then it is cancelled (a non-streamed
     *     request gets HTTP 504, a stream ends with {@code finish_reason "length"}); positive; default 5 minutes
     * @return this
     */
    public LlmServerBuilder requestTimeout(Duration timeout) {
        requestTimeout = positive(timeout, "requestTimeout");
        return this;
    }

    /**
     * @param grace how long {@link LlmServer#close()} lets in-flight generations finish before cancelling them;
     *     positive; default 30 seconds
     * @return this
     */
    public LlmServerBuilder shutdownGrace(Duration grace) {
        shutdownGrace = positive(grace, "shutdownGrace");
        return this;
    }

    /**
     * @param n {@code max_tokens} when a request has none (then capped by the context left); &gt; 0; default 256
     * @return this
     */
    public LlmServerBuilder defaultMaxTokens(int n) {
        if (n <= 0) {
            throw new IllegalArgumentException("defaultMaxTokens must be > 0 but is " + n);
        }
        defaultMaxTokens = n;
        return this;
    }

    /**
     * Checks the settings, starts the scheduler and the HTTP server.
     *
     * @return the running server; close it to stop
     * @throws IllegalStateException when the model has no tokenizer
     */
    public LlmServer start() {
        if (!model.hasTokenizer()) {
            throw new IllegalStateException("serving needs a tokenizer, but the model (" + model.source()
                    + ") has none; attach one with model.withTokenizer(Tokenizer.load(dir))");
        }
        int context = model.config().maxPositionEmbeddings();
        long kvTokens = maxKvTokens > 0 ? maxKvTokens
                : Math.max(context, (long) maxBatchSize * Math.min(context, 2048));
        ServerConfig config = new ServerConfig(host, port, List.copyOf(apiKeys), maxBatchSize, kvTokens, maxQueue,
                modelName != null ? modelName : defaultName(model), maxBodyBytes, requestTimeout, shutdownGrace,
                defaultMaxTokens);
        return new LlmServer(model, config, new ContinuousScheduler(model, maxBatchSize, kvTokens, maxQueue));
    }

    private static String defaultName(LanguageModel m) {
        if (m.source() == null || m.source().getFileName() == null) {
            return "llmkit-model";
        }
        return m.source().getFileName().toString();
    }

    private static Duration positive(Duration d, String what) {
        if (d == null || d.isNegative() || d.isZero()) {
            throw new IllegalArgumentException(what + " must be a positive duration but is " + d);
        }
        return d;
    }
}
