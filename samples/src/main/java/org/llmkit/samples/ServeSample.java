package org.llmkit.samples;

import java.util.concurrent.CountDownLatch;
import org.llmkit.api.LanguageModel;
import org.llmkit.serve.LlmServer;
import org.llmkit.serve.LlmServerBuilder;

/**
 * Serves a model over an OpenAI-compatible HTTP API until Ctrl-C (which shuts down gracefully).
 *
 * <pre>
 * java -jar llmkit-samples.jar serve --port 8080                 # the model the plan sample trained
 * java -jar llmkit-samples.jar serve --model ~/models/Llama-3.1-8B-Instruct --api-key k1 --device gpu
 * curl -s localhost:8080/v1/chat/completions -H 'Content-Type: application/json' \
 *      -d '{"model":"model","messages":[{"role":"user","content":"Tell me a story about Tom the cat."}]}'
 * </pre>
 *
 * <p>The code, without option parsing:
 * <pre>{@code
 * try (LlmServer s = LlmServer.of(model).port(8080).apiKeys("k1").start()) {
 *     Thread.currentThread().join();
 * }
 * }</pre>
 * llm-serve's own {@code org.llmkit.serve.ServeMain} does the same without the device and precision options.
 */
public final class ServeSample {
    private ServeSample() { }

    /**
     * Runs the sample.
     *
     * @param argv options; {@code --help} lists them
     * @throws Exception when the model cannot be loaded or the port cannot be bound
     */
    public static void main(String[] argv) throws Exception {
        Args args = ModelOptions.describe(new Args("java -jar llmkit-samples.jar serve [options]", argv))
                .describe("host", "interface to listen on (default 127.0.0.1; 0.0.0.0 for all)")
                .describe("port", "TCP port (default 8080; 0 picks a free one)")
                .describe("api-key", "require 'Authorization: Bearer KEY' (comma-separated for several)")
                .describe("max-batch-size", "generations running at once (default: llm-serve's)")
                .describe("model-name", "model id clients send (default: the folder name)");
        if (args.wantsHelp()) {
            System.out.print(args.helpText());
            return;
        }
        args.checkKnown();
        LanguageModel model = ModelOptions.load(args);
        LlmServerBuilder builder = LlmServer.of(model).host(args.string("host", "127.0.0.1"))
                .port(args.integer("port", 8080));
        if (args.string("api-key", null) != null) {
            builder.apiKeys(args.string("api-key", null).split(","));
        }
        if (args.string("max-batch-size", null) != null) {
            builder.maxBatchSize(args.integer("max-batch-size", 1));
        }
        if (args.string("model-name", null) != null) {
            builder.modelName(args.string("model-name", null));
        }
        LlmServer server = builder.start();
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            server.close();
            model.close();
            stopped.countDown();
        }, "llmkit-serve-shutdown"));
        System.out.printf("serving %s on http://%s:%d/v1 (model id \"%s\"); Ctrl-C stops%n", model.source(),
                args.string("host", "127.0.0.1"), server.port(), server.modelName());
        stopped.await();
    }
}
