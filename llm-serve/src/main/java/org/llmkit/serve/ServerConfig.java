package org.llmkit.serve;

import java.time.Duration;
import java.util.List;

/**
 * The immutable settings of one server, made by {@link LlmServerBuilder#start()}.
 *
 * @param host interface to listen on
 * @param port TCP port, 0 for a free one
 * @param apiKeys accepted Bearer keys; empty means no authentication
 * @param maxBatchSize sequences decoded together (continuous batching)
 * @param maxKvTokens cap on prompt + max_tokens summed over the sequences decoding together
 * @param maxQueue requests waiting at most (more get HTTP 429)
 * @param modelName the id clients must send as {@code model}
 * @param maxBodyBytes largest request body (larger gets HTTP 413)
 * @param requestTimeout longest time one request may wait and generate
 * @param shutdownGrace how long {@code close()} lets in-flight generations finish
 * @param defaultMaxTokens {@code max_tokens} when the client sends none (capped by the context)
 */
record ServerConfig(String host, int port, List<String> apiKeys, int maxBatchSize, long maxKvTokens, int maxQueue, String modelName,
        long maxBodyBytes, Duration requestTimeout, Duration shutdownGrace, int defaultMaxTokens) {
}
