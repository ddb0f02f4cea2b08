package org.llmkit.serve;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import org.llmkit.api.LanguageModel;
import org.llmkit.api.Tokenizer;

/**
 * The stand-alone {@code serve} command: loads a model folder and serves it until the process is stopped
 * (Ctrl-C shuts down gracefully).
 *
 * <pre>
 * java -cp ... org.llmkit.serve.ServeMain --model DIR [--tokenizer DIR] [--port 8080] [--host 127.0.0.1]
 *     [--api-key K]... [--max-batch-size 8] [--max-kv-tokens N] [--max-queue 64] [--model-name NAME]
 * </pre>
 */
public final class ServeMain {
    static final String USAGE = String.join("\n",
            "usage: serve --model DIR [options]",
            "  --model DIR           HuggingFace model folder (config.json + *.safetensors)",
            "  --tokenizer DIR       tokenizer folder, when the model folder has none",
            "  --host HOST           interface to listen on (default 127.0.0.1; 0.0.0.0 for all)",
            "  --port N              TCP port (default 8080; 0 picks a free one)",
            "  --api-key K           require 'Authorization: Bearer K' (repeatable)",
            "  --max-batch-size N    sequences decoded together by continuous batching (default 8)",
            "  --max-kv-tokens N     cap on prompt + max_tokens over those sequences (default 8 x min(context, 2048))",
            "  --max-queue N         requests waiting at most; more get HTTP 429 (default 64)",
            "  --model-name NAME     model id clients send (default: the folder name)",
            "  --help                print this help");

    private ServeMain() { }

    /**
     * Runs the server until the JVM is stopped.
     *
     * @param args command-line options; {@code --help} lists them
     * @throws Exception when the model cannot be loaded or the port cannot be bound
     */
    public static void main(String[] args) throws Exception {
        Options o;
        try {
            o = Options.parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("serve: " + e.getMessage());
            System.err.println(USAGE);
            System.exit(2);
            return;
        }
        if (o.help) {
            System.out.println(USAGE);
            return;
        }
        LanguageModel model = LanguageModel.load(o.model);
        if (o.tokenizer != null) {
            model = model.withTokenizer(Tokenizer.load(o.tokenizer));
        }
        LlmServer server = o.apply(LlmServer.of(model)).start();
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            server.close();
            stopped.countDown();
        }, "llmkit-serve-shutdown"));
        print(System.out, server);
        stopped.await();
    }

    private static void print(PrintStream out, LlmServer s) {
        out.println("serving " + s.modelName() + " on port " + s.port() + " (OpenAI API under /v1)");
    }

    /** Parsed command-line options. */
    static final class Options {
        Path model;
        Path tokenizer;
        String host = "127.0.0.1";
        int port = 8080;
        final List<String> apiKeys = new ArrayList<>();
        Integer maxBatchSize;
        Integer maxQueue;
        Long maxKvTokens;
        String modelName;
        boolean help;

        static Options parse(String[] args) {
            Options o = new Options();
            for (int i = 0; i < args.length; i++) {
                String a = args[i];
                if (a.equals("--help") || a.equals("-h")) {
                    o.help = true;
                    continue;
                }
                if (i + 1 >= args.length) {
                    throw new IllegalArgumentException("option " + a + " needs a value (or is unknown)");
                }
                String v = args[++i];
                switch (a) {
                    case "--model" -> o.model = Path.of(v);
                    case "--tokenizer" -> o.tokenizer = Path.of(v);
                    case "--host" -> o.host = v;
                    case "--port" -> o.port = integer(a, v);
                    case "--api-key" -> o.apiKeys.add(v);
                    case "--max-batch-size" -> o.maxBatchSize = integer(a, v);
                    case "--max-queue" -> o.maxQueue = integer(a, v);
                    case "--max-kv-tokens" -> o.maxKvTokens = (long) integer(a, v);
                    case "--model-name" -> o.modelName = v;
                    default -> throw new IllegalArgumentException("unknown option " + a);
                }
            }
            if (o.model == null && !o.help) {
                throw new IllegalArgumentException("--model DIR is required");
            }
            return o;
        }

        LlmServerBuilder apply(LlmServerBuilder b) {
            b.host(host).port(port).apiKeys(apiKeys.toArray(String[]::new));
            if (maxBatchSize != null) {
                b.maxBatchSize(maxBatchSize);
            }
            if (maxKvTokens != null) {
                b.maxKvTokens(maxKvTokens);
            }
            if (maxQueue != null) {
                b.maxQueue(maxQueue);
            }
            if (modelName != null) {
                b.modelName(modelName);
            }
            return b;
        }

        private static int integer(String option, String value) {
            try {
                return Integer.parseInt(value);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(option + " needs an integer but got '" + value + "'", e);
            }
        }
    }
}
