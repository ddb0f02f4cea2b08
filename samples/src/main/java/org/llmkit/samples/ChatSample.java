package org.llmkit.samples;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.llmkit.api.ChatMessage;
import org.llmkit.api.Generation;
import org.llmkit.api.LanguageModel;
import org.llmkit.api.generate.GenerationResult;

/**
 * Chats with a model through its chat template: one turn with {@code --message}, else a conversation on the
 * terminal ({@code /reset} forgets it, {@code /exit} or end of input quits).
 *
 * <pre>
 * java -jar llmkit-samples.jar chat --message "Tell me a story about Tom the cat."
 * java -jar llmkit-samples.jar chat --model ~/models/Llama-3.1-8B-Instruct --system "Be terse." --device gpu
 * </pre>
 *
 * <p>The code, without option parsing:
 * <pre>{@code
 * List<ChatMessage> history = new ArrayList<>(List.of(ChatMessage.system("Be terse."), ChatMessage.user("Hi!")));
 * GenerationResult r = model.chat(history).maxNewTokens(256).stream(System.out::print);
 * history.add(ChatMessage.assistant(r.text()));
 * }</pre>
 */
public final class ChatSample {
    private ChatSample() { }

    /**
     * Runs the sample.
     *
     * @param argv options; {@code --help} lists them
     * @throws Exception when loading or generation fails
     */
    public static void main(String[] argv) throws Exception {
        Args args = ModelOptions.describe(new Args("java -jar llmkit-samples.jar chat [options]", argv))
                .describe("message", "send this one message, print the answer and exit")
                .describe("system", "system message that starts the conversation")
                .describe("max-new-tokens", "longest answer in tokens (default 256)")
                .describe("temperature", "sample with this temperature (default: greedy)")
                .describe("top-p", "nucleus sampling threshold (default 1 = off)");
        if (args.wantsHelp()) {
            System.out.print(args.helpText());
            return;
        }
        args.checkKnown();
        try (LanguageModel model = ModelOptions.load(args)) {
            List<ChatMessage> history = new ArrayList<>();
            String system = args.string("system", null);
            if (system != null) {
                history.add(ChatMessage.system(system));
            }
            String message = args.string("message", null);
            if (message != null) {
                answer(model, history, message, args);
                return;
            }
            System.out.println("chatting with " + model.source() + "; /reset forgets, /exit quits");
            BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            while (true) {
                System.out.print("> ");
                System.out.flush();
                String line = in.readLine();
                if (line == null || line.strip().equals("/exit")) {
                    return;
                }
                if (line.strip().equals("/reset")) {
                    history.subList(system == null ? 0 : 1, history.size()).clear();
                } else if (!line.isBlank()) {
                    answer(model, history, line, args);
                }
            }
        }
    }

    private static void answer(LanguageModel model, List<ChatMessage> history, String message, Args args) {
        history.add(ChatMessage.user(message));
        Generation g = model.chat(history).maxNewTokens(args.integer("max-new-tokens", 256));
        if (args.string("temperature", null) != null) {
            g.temperature(args.number("temperature", 1)).topP(args.number("top-p", 1));
        } else {
            g.greedy();
        }
        GenerationResult r = g.stream(piece -> {
            System.out.print(piece);
            System.out.flush();
        });
        System.out.println();
        history.add(ChatMessage.assistant(r.text()));
    }
}
