package org.llmkit.samples.bundled;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.llmkit.api.io.AtomicFiles;

/**
 * The samples' bundled raw corpus: {@link StoryCorpus} stories mixed with the kinds of noise a real crawl
 * holds, so that each pipeline stage has something to remove. 30% of the stories are written as a chat
 * exchange in the bundled tokenizer's chat format ({@link #chat}: a user asks for a story about a character,
 * the assistant tells it), so that a model trained on the corpus answers such requests. About 4% of documents are exact copies (with
 * stray whitespace), 3% near copies (one word changed), 2% not English, 2% junk (symbols, numbers, bullet
 * lists), 1% insulting. Each document says what it is in its {@code kind} field.
 *
 * <pre>{@code
 * List<BundledCorpus.Doc> docs = BundledCorpus.generate(2000, 42);
 * BundledCorpus.writeJsonl(docs, Path.of("corpus.jsonl"));   // {"id", "text", "kind"} per line
 * }</pre>
 */
public final class BundledCorpus {
    /** The {@code kind} of a generated story. */
    public static final String STORY = "story";
    /** The {@code kind} of a story told as the answer to a chat request. */
    public static final String CHAT = "chat";
    /** The share of stories written as a chat exchange. */
    static final double CHAT_SHARE = 0.3;

    /**
     * One raw document.
     *
     * @param id a unique id, for example {@code story-00042}
     * @param kind {@code story}, {@code chat}, {@code duplicate}, {@code near-duplicate}, {@code foreign}, {@code junk} or
     *     {@code toxic}
     * @param text the text
     */
    public record Doc(String id, String kind, String text) {
    }

    /** Renders a one-turn chat exchange as training text, for example with a model's chat template. */
    @FunctionalInterface
    public interface ChatFormat {
        /**
         * Renders the exchange.
         *
         * @param request the user's message
         * @param answer the assistant's answer
         * @return the text to train on (tokenization adds the beginning-of-text token)
         */
        String render(String request, String answer);
    }

    /** Short stories in other languages, written for llmkit; {@code %s} is a name. */
    private static final String[] FOREIGN = {
        "Il était une fois un petit chat qui s'appelait %s. Il aimait jouer dans le jardin avec ses amis. "
                + "Un jour, il a trouvé une balle rouge sous un arbre. Il était très content et il a couru "
                + "jusqu'à la maison pour la montrer à sa mère.",
        "Es war einmal eine kleine Katze namens %s. Sie spielte jeden Tag im Park mit ihren Freunden. "
                + "Eines Tages fand sie einen blauen Ball unter einem Baum. Sie war sehr glücklich und lief "
                + "schnell nach Hause, um ihn ihrer Mutter zu zeigen.",
        "Había una vez un perro pequeño que se llamaba %s. Le gustaba correr en el bosque con sus amigos. "
                + "Un día encontró una cometa verde debajo de un árbol. Estaba muy feliz y corrió a su casa "
                + "para enseñársela a su madre.",
        "C'era una volta un piccolo coniglio di nome %s. Gli piaceva giocare nel prato con i suoi amici. "
                + "Un giorno trovò una barca gialla vicino al fiume. Era molto felice e corse a casa per "
                + "mostrarla alla sua mamma.",
    };
    private static final String[] NAMES = {"Tom", "Lily", "Max", "Mia", "Ben", "Anna", "Sam", "Zoe"};
    private static final String[] OBJECT_WORDS = {"toys", "books", "hats", "kites", "balls", "games"};

    private BundledCorpus() { }

    /**
     * Generates the corpus with chat exchanges in the bundled tokenizer's format ({@link #chat}).
     *
     * @param stories how many distinct stories, &gt;= 1; noise documents come on top
     * @param seed the seed
     * @return the documents, noise spread among the stories
     */
    public static List<Doc> generate(int stories, long seed) {
        return generate(stories, seed, BundledCorpus::chat);
    }

    /**
     * Generates the corpus.
     *
     * @param stories how many distinct stories, &gt;= 1; noise documents come on top
     * @param seed the seed
     * @param chatFormat renders the chat exchanges
     * @return the documents, noise spread among the stories
     */
    public static List<Doc> generate(int stories, long seed, ChatFormat chatFormat) {
        if (stories < 1) {
            throw new IllegalArgumentException("stories must be >= 1, was " + stories);
        }
        Random random = new Random(seed ^ 0x5DEECE66DL);
        StoryCorpus corpus = StoryCorpus.seeded(seed);
        List<Doc> docs = new ArrayList<>();
        List<String> written = new ArrayList<>();
        for (int i = 0; i < stories; i++) {
            StoryCorpus.Story next = corpus.next();
            Doc doc = random.nextDouble() < CHAT_SHARE
                    ? new Doc(String.format("chat-%05d", i), CHAT, chatFormat.render(request(next, random), next.text()))
                    : new Doc(String.format("story-%05d", i), STORY, next.text());
            docs.add(doc);
            written.add(doc.text());
            double r = random.nextDouble();
            int n = docs.size();
            if (r < 0.04) {
                String copy = written.get(random.nextInt(written.size()));
                docs.add(new Doc("dup-" + n, "duplicate", "  " + copy.replace(". ", ".  ") + "\n"));
            } else if (r < 0.07) {
                docs.add(new Doc("near-" + n, "near-duplicate", changeOneWord(written.get(random.nextInt(
                        written.size())), random)));
            } else if (r < 0.09) {
                docs.add(new Doc("foreign-" + n, "foreign", String.format(FOREIGN[random.nextInt(FOREIGN.length)],
                        NAMES[random.nextInt(NAMES.length)])));
            } else if (r < 0.11) {
                docs.add(new Doc("junk-" + n, "junk", junk(random)));
            } else if (r < 0.12) {
                docs.add(new Doc("toxic-" + n, "toxic", corpus.story().replaceFirst("\\. ",
                        ". \"You are an idiot and a moron,\" said the rude fox. \"Stupid idiot!\" ")));
            }
        }
        return docs;
    }

    /**
     * Writes documents as JSON Lines ({@code {"id", "text", "kind"}}), atomically.
     *
     * @param docs the documents
     * @param file the target file
     * @throws IOException when writing fails
     */
    public static void writeJsonl(List<Doc> docs, Path file) throws IOException {
        ObjectMapper mapper = new ObjectMapper();
        AtomicFiles.writeStream(file, out -> {
            BufferedWriter w = new BufferedWriter(new OutputStreamWriter(out, StandardCharsets.UTF_8));
            for (Doc d : docs) {
                ObjectNode line = mapper.createObjectNode().put("id", d.id()).put("text", d.text())
                        .put("kind", d.kind());
                w.write(mapper.writeValueAsString(line));
                w.write('\n');
            }
            w.flush();
        });
    }

    /**
     * Renders a one-turn chat exchange as the bundled chat template does (without the leading
     * {@code <|begin_of_text|>}, which tokenization adds).
     *
     * @param request the user's message
     * @param answer the assistant's answer
     * @return the exchange
     */
    public static String chat(String request, String answer) {
        return "<|start_header_id|>user<|end_header_id|>\n\n" + request
                + "<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n" + answer + "<|eot_id|>";
    }

    /**
     * Phrases a request for a story about a character.
     *
     * @param hero the character's name
     * @param animal what the character is
     * @param variant which phrasing, any integer
     * @return the request
     */
    public static String request(String hero, String animal, int variant) {
        return switch (Math.floorMod(variant, 3)) {
            case 0 -> "Tell me a story about " + hero + " the " + animal + ".";
            case 1 -> "Can you tell me a story about a " + animal + " named " + hero + "?";
            default -> "Please write a short story about " + hero + " the " + animal + ".";
        };
    }

    private static String request(StoryCorpus.Story story, Random random) {
        return request(story.hero(), story.animal(), random.nextInt(3));
    }

    private static String changeOneWord(String story, Random random) {
        String[] words = story.split(" ");
        int i = 1 + random.nextInt(words.length - 2);
        words[i] = words[i].endsWith(".") ? "again." : "very";
        return String.join(" ", words);
    }

    private static String junk(Random random) {
        StringBuilder b = new StringBuilder();
        int lines = 8 + random.nextInt(8);
        switch (random.nextInt(3)) {
            case 0 -> {
                for (int i = 0; i < lines; i++) {
                    b.append("### CLICK HERE to win a free prize!!! ### Buy now and save $$$ ...\n");
                }
            }
            case 1 -> {
                for (int i = 0; i < lines; i++) {
                    b.append("Home | About us | Contact | Shop | Cart | Login | Page ").append(i + 1).append('\n');
                }
            }
            default -> {
                for (int i = 0; i < lines; i++) {
                    b.append("\u2022 the best ").append(OBJECT_WORDS[random.nextInt(OBJECT_WORDS.length)])
                            .append(" for your kids, order today \u2026\n");
                }
            }
        }
        return b.toString();
    }
}
